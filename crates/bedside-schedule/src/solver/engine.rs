//! The search engine: an incremental schedule state with delta scoring, a constructive start
//! and ruin-and-recreate large-neighbourhood search under simulated-annealing acceptance.

use bedside_core::SeededRng;

use super::model::{DayMask, Placement, Problem, run_mask};
use super::{Budget, SolverConfig};

const NONE: u32 = u32::MAX;

/// Incremental state of a (partial) schedule. Every mutation keeps `unscheduled` and `soft`
/// equal to a from-scratch evaluation (checked in tests).
pub(crate) struct State<'a> {
    pb: &'a Problem,
    days: usize,
    spd: usize,
    /// Per request: candidate starts `(base cost, day, slot)` sorted by base cost.
    cands: Vec<Vec<(i64, u16, u16)>>,
    avail: Vec<DayMask>,
    occ: Vec<DayMask>,
    owner: Vec<u32>,
    patient_occ: Vec<DayMask>,
    load: Vec<i64>,
    fair_share: i64,
    pub(crate) place: Vec<Option<Placement>>,
    /// Per request: its current cost contribution (placement cost, or unscheduled penalty).
    cost: Vec<i64>,
    pub(crate) unscheduled: i64,
    pub(crate) soft: i64,
    /// Per provider-day, prefix sums over slots of the expected demand for that slot (how many
    /// requests would like it), scaled to integers: placements on low-pressure slots keep the
    /// contested ones free.
    pressure: Vec<i64>,
    pressure_weight: i64,
}

impl<'a> State<'a> {
    // Long because it fills every incremental-scoring table of the state in one pass; the
    // tables must agree with each other, so they are built side by side.
    pub(crate) fn new(pb: &'a Problem) -> Self {
        let days = usize::from(pb.days());
        let spd = usize::from(pb.slots_per_day());
        let n_prov = pb.providers().len();
        let mut avail = vec![0; n_prov * days];
        for (p, prov) in pb.providers().iter().enumerate() {
            for (d, m) in prov.available.iter().enumerate() {
                avail[p * days + d] = m & run_mask(pb.slots_per_day());
            }
        }
        let mut cands = Vec::with_capacity(pb.requests().len());
        for (i, r) in pb.requests().iter().enumerate() {
            let mut v = Vec::new();
            let last = pb.slots_per_day().saturating_sub(r.duration_slots);
            // Only starts that at least one allowed provider could ever take.
            for d in 0..pb.days() {
                let mut union_ok: DayMask = 0;
                for &p in &r.allowed_providers {
                    union_ok |= avail[p as usize * days + usize::from(d)];
                }
                let m = run_mask(r.duration_slots);
                for k in 0..=last {
                    if union_ok & (m << k) == (m << k) {
                        let c = pb
                            .placement_cost(
                                i,
                                Placement {
                                    provider: NONE,
                                    day: d,
                                    start_slot: k,
                                },
                            )
                            .total();
                        // The provider part is added per provider at insertion time.
                        let c = c - provider_part(pb, i, NONE);
                        v.push((c, d, k));
                    }
                }
            }
            v.sort_by_key(|&(c, d, k)| (c, d, k));
            cands.push(v);
        }
        let max_patient = pb
            .requests()
            .iter()
            .filter_map(|r| r.patient)
            .max()
            .map_or(0, |m| m as usize + 1);
        let total_demand: i64 = pb
            .requests()
            .iter()
            .map(|r| i64::from(r.duration_slots))
            .sum();
        let fair_share = if n_prov == 0 {
            0
        } else {
            (total_demand + n_prov as i64 - 1) / n_prov as i64
        };
        let unscheduled = pb.requests().iter().map(|r| r.unscheduled_penalty).sum();
        let cost = pb
            .requests()
            .iter()
            .map(|r| r.unscheduled_penalty)
            .collect();
        let mut raw = vec![0f64; n_prov * days * spd];
        for r in pb.requests() {
            let (Some(d), Some((ws, we))) = (r.preferred_day, r.preferred_window) else {
                continue;
            };
            let share = f64::from(r.duration_slots)
                / (r.allowed_providers.len().max(1) as f64 * f64::from((we - ws).max(1)));
            for &p in &r.allowed_providers {
                let base = (p as usize * days + usize::from(d)) * spd;
                for t in usize::from(ws)..usize::from(we).min(spd) {
                    raw[base + t] += share;
                }
            }
        }
        let mut pressure = vec![0i64; n_prov * days * (spd + 1)];
        for pd in 0..n_prov * days {
            let mut acc = 0i64;
            for t in 0..spd {
                pressure[pd * (spd + 1) + t] = acc;
                acc += (raw[pd * spd + t] * 1000.0).round() as i64;
            }
            pressure[pd * (spd + 1) + spd] = acc;
        }
        Self {
            pressure,
            pressure_weight: 1,
            pb,
            days,
            spd,
            cands,
            avail,
            occ: vec![0; n_prov * days],
            owner: vec![NONE; n_prov * days * spd],
            patient_occ: vec![0; max_patient * days],
            load: vec![0; n_prov],
            fair_share,
            place: vec![None; pb.requests().len()],
            cost,
            unscheduled,
            soft: 0,
        }
    }

    pub(crate) fn objective(&self) -> i64 {
        self.unscheduled + self.soft
    }

    fn gap_cost(&self, occ: DayMask) -> i64 {
        let w = self.pb.weights().idle_gap_slot;
        if w == 0 || occ == 0 {
            return 0;
        }
        let span = 128 - occ.leading_zeros() - occ.trailing_zeros();
        i64::from(span - occ.count_ones()) * w
    }

    fn overload_cost(&self, load: i64) -> i64 {
        (load - self.fair_share).max(0) * self.pb.weights().overload_slot
    }

    /// Whether `r` fits at `pl` given everything currently placed.
    pub(crate) fn fits(&self, r: usize, pl: Placement) -> bool {
        let req = &self.pb.requests()[r];
        let pd = pl.provider as usize * self.days + usize::from(pl.day);
        let m = run_mask(req.duration_slots) << pl.start_slot;
        if (self.occ[pd] | !self.avail[pd]) & m != 0 {
            return false;
        }
        if let Some(pt) = req.patient
            && self.patient_occ[pt as usize * self.days + usize::from(pl.day)] & m != 0
        {
            return false;
        }
        true
    }

    /// Cost change of inserting `r` (unplaced) at `pl`, unscheduled penalty excluded.
    fn insert_soft_delta(&self, r: usize, base: i64, pl: Placement) -> i64 {
        let req = &self.pb.requests()[r];
        let w = self.pb.weights();
        let mut delta = base + provider_part(self.pb, r, pl.provider);
        let p = pl.provider as usize;
        if w.idle_gap_slot != 0 {
            let pd = p * self.days + usize::from(pl.day);
            let m = run_mask(req.duration_slots) << pl.start_slot;
            delta += self.gap_cost(self.occ[pd] | m) - self.gap_cost(self.occ[pd]);
        }
        if w.overload_slot != 0 {
            let d = i64::from(req.duration_slots);
            delta += self.overload_cost(self.load[p] + d) - self.overload_cost(self.load[p]);
        }
        delta
    }

    pub(crate) fn insert(&mut self, r: usize, pl: Placement) {
        let req = &self.pb.requests()[r];
        let base = base_cost(self.pb, r, pl);
        let delta = self.insert_soft_delta(r, base, pl);
        let p = pl.provider as usize;
        let pd = p * self.days + usize::from(pl.day);
        let m = run_mask(req.duration_slots) << pl.start_slot;
        self.occ[pd] |= m;
        let o = pd * self.spd + usize::from(pl.start_slot);
        for s in &mut self.owner[o..o + usize::from(req.duration_slots)] {
            *s = r as u32;
        }
        if let Some(pt) = req.patient {
            self.patient_occ[pt as usize * self.days + usize::from(pl.day)] |= m;
        }
        self.load[p] += i64::from(req.duration_slots);
        self.soft += delta;
        self.unscheduled -= req.unscheduled_penalty;
        self.cost[r] = base + provider_part(self.pb, r, pl.provider);
        self.place[r] = Some(pl);
    }

    pub(crate) fn remove(&mut self, r: usize) -> Option<Placement> {
        let pl = self.place[r].take()?;
        let req = &self.pb.requests()[r];
        let p = pl.provider as usize;
        let pd = p * self.days + usize::from(pl.day);
        let m = run_mask(req.duration_slots) << pl.start_slot;
        let gap_before = self.gap_cost(self.occ[pd]);
        let over_before = self.overload_cost(self.load[p]);
        self.occ[pd] &= !m;
        let o = pd * self.spd + usize::from(pl.start_slot);
        for s in &mut self.owner[o..o + usize::from(req.duration_slots)] {
            *s = NONE;
        }
        if let Some(pt) = req.patient {
            self.patient_occ[pt as usize * self.days + usize::from(pl.day)] &= !m;
        }
        self.load[p] -= i64::from(req.duration_slots);
        let gap_after = self.gap_cost(self.occ[pd]);
        let over_after = self.overload_cost(self.load[p]);
        self.soft -= self.cost[r];
        self.soft += gap_after - gap_before + over_after - over_before;
        self.unscheduled += req.unscheduled_penalty;
        self.cost[r] = req.unscheduled_penalty;
        Some(pl)
    }

    /// The cheapest free placement for unplaced `r` (ties: snug against neighbours), skipping
    /// each feasible option with probability `blink`.
    fn best_insertion(
        &self,
        r: usize,
        rng: &mut SeededRng,
        blink: f64,
    ) -> Option<(i64, Placement)> {
        let req = &self.pb.requests()[r];
        let w = self.pb.weights();
        let dur = req.duration_slots;
        let m0 = run_mask(dur);
        // The most any insertion can gain from non-separable terms, to stop scanning early.
        let slack = i64::from(dur) * w.idle_gap_slot;
        let allowed = &req.allowed_providers;
        let n = allowed.len();
        let rot = if n > 1 { rng.index(n) } else { 0 };
        // Without gap or overload terms the cost is the base plus the provider part.
        let separable = w.idle_gap_slot == 0 && w.overload_slot == 0;
        let preferred = req.preferred_provider;
        let spd = u32::from(self.pb.slots_per_day());
        let mut best: Option<(i64, i64, Placement)> = None;
        for &(base, d, k) in &self.cands[r] {
            if let Some((bc, _, _)) = best
                && base - slack > bc
            {
                break;
            }
            let m = m0 << k;
            if let Some(pt) = req.patient
                && self.patient_occ[pt as usize * self.days + usize::from(d)] & m != 0
            {
                continue;
            }
            let day_off = usize::from(d);
            for &p in allowed[rot..].iter().chain(allowed[..rot].iter()) {
                let pd = p as usize * self.days + day_off;
                let blocked = self.occ[pd] | !self.avail[pd];
                if blocked & m != 0 {
                    continue;
                }
                if blink > 0.0 && rng.chance(blink) {
                    continue;
                }
                let pl = Placement {
                    provider: p,
                    day: d,
                    start_slot: k,
                };
                let c = if separable {
                    base + if preferred.is_some_and(|pp| pp != p) {
                        w.provider
                    } else {
                        0
                    }
                } else {
                    self.insert_soft_delta(r, base, pl)
                };
                if let Some((bc, _, _)) = best
                    && c > bc
                {
                    continue;
                }
                // Snugness: an occupied or unavailable neighbour on each side is better.
                let left = k == 0 || blocked & (1u128 << (k - 1)) != 0;
                let right_bit = u32::from(k) + u32::from(dur);
                let right = right_bit >= spd || blocked & (1u128 << right_bit) != 0;
                let pbase = pd * (self.spd + 1) + usize::from(k);
                let press = self.pressure[pbase + usize::from(dur)] - self.pressure[pbase];
                let snug =
                    press * self.pressure_weight - 300 * (i64::from(left) + i64::from(right));
                match best {
                    Some((bc, bs, _)) if (c, snug) >= (bc, bs) => {}
                    _ => best = Some((c, snug, pl)),
                }
            }
        }
        best.map(|(c, _, pl)| (c, pl))
    }

    /// Places every unplaced request, most constrained first, at its cheapest free option.
    pub(crate) fn construct(&mut self, rng: &mut SeededRng) {
        let mut order: Vec<usize> = (0..self.pb.requests().len())
            .filter(|&r| self.place[r].is_none())
            .collect();
        let reqs = self.pb.requests();
        order.sort_by_key(|&r| {
            (
                std::cmp::Reverse(reqs[r].unscheduled_penalty),
                reqs[r].allowed_providers.len(),
                std::cmp::Reverse(reqs[r].duration_slots),
                r,
            )
        });
        for r in order {
            if let Some((_, pl)) = self.best_insertion(r, rng, 0.0) {
                self.insert(r, pl);
            }
        }
    }

    /// Collects the unpinned owners of slots `[lo, hi)` on provider `p`, day `d`.
    fn owners_in(&self, p: usize, d: usize, lo: usize, hi: usize, out: &mut Vec<usize>) {
        let pd = p * self.days + d;
        let base = pd * self.spd;
        let mut s = lo;
        while s < hi.min(self.spd) {
            let o = self.owner[base + s];
            if o != NONE {
                let o = o as usize;
                if self.pb.requests()[o].pinned.is_none() && !out.contains(&o) {
                    out.push(o);
                }
            }
            s += 1;
        }
    }
}

fn provider_part(pb: &Problem, r: usize, provider: u32) -> i64 {
    match pb.requests()[r].preferred_provider {
        Some(pp) if pp != provider => pb.weights().provider,
        _ => 0,
    }
}

fn base_cost(pb: &Problem, r: usize, pl: Placement) -> i64 {
    pb.placement_cost(r, pl).total() - provider_part(pb, r, pl.provider)
}

/// Removes (into `removed`) the requests around where `seed` wants to be: its preferred (or
/// current) day and window, widened a little, on a random subset of its allowed providers (one
/// provider only when `wide` is false).
fn ruin_region(
    st: &State<'_>,
    pb: &Problem,
    seed: usize,
    config: &SolverConfig,
    rng: &mut SeededRng,
    removed: &mut Vec<usize>,
    wide: bool,
) {
    let spd = usize::from(pb.slots_per_day());
    let req = &pb.requests()[seed];
    let cur = st.place[seed];
    let day = match (req.preferred_day, cur) {
        (Some(pd), Some(c)) => {
            if rng.chance(0.75) {
                pd
            } else {
                c.day
            }
        }
        (Some(pd), None) => pd,
        (None, Some(c)) => {
            if rng.chance(0.8) {
                c.day
            } else {
                rng.index(usize::from(pb.days())) as u16
            }
        }
        (None, None) => rng.index(usize::from(pb.days())) as u16,
    };
    let (mut lo, mut hi) = match (req.preferred_window, cur) {
        (_, Some(c)) if c.day == day && (req.preferred_window.is_none() || rng.chance(0.3)) => (
            usize::from(c.start_slot),
            usize::from(c.start_slot + req.duration_slots),
        ),
        (Some((a, b)), _) => (usize::from(a), usize::from(b)),
        _ => {
            let a = rng.index(spd);
            (a, (a + usize::from(req.duration_slots)).min(spd))
        }
    };
    lo = lo.saturating_sub(rng.index(config.max_extension_slots + 1));
    hi = (hi + rng.index(config.max_extension_slots + 1)).min(spd);
    let allowed = &req.allowed_providers;
    if !wide {
        let p = allowed[rng.index(allowed.len())];
        st.owners_in(p as usize, usize::from(day), lo, hi, removed);
        return;
    }
    let p_inc = 0.25 + 0.75 * rng.next_f64();
    let mut any = false;
    for (i, &p) in allowed.iter().enumerate() {
        let last = i + 1 == allowed.len();
        if rng.chance(p_inc) || (last && !any) {
            any = true;
            st.owners_in(p as usize, usize::from(day), lo, hi, removed);
            if removed.len() >= config.max_removed {
                break;
            }
        }
    }
}

/// Result of a search run.
pub(crate) struct SearchOutcome {
    pub(crate) best: Vec<Option<Placement>>,
    pub(crate) iterations: u64,
}

/// Runs construction and LNS; returns the lexicographically best schedule seen.
// Long because it is the LNS loop (ruin, recreate, accept, track best); its locals carry the
// annealing state across iterations and splitting would thread them through every call.
pub(crate) fn search(
    pb: &Problem,
    config: &SolverConfig,
    budget: &mut dyn Budget,
) -> Result<SearchOutcome, super::SolverError> {
    let mut st = State::new(pb);
    st.pressure_weight = config.pressure_weight;
    let mut rng = SeededRng::new(config.seed);
    // Pinned appointments first; they must fit.
    for (i, r) in pb.requests().iter().enumerate() {
        if let Some(pl) = r.pinned {
            if !pb.placement_allowed(i, pl) || !st.fits(i, pl) {
                return Err(super::SolverError::PinnedConflict { request: i });
            }
            st.insert(i, pl);
        }
    }
    st.construct(&mut rng);
    let mut best = st.place.clone();
    let mut best_key = (st.unscheduled, st.soft);
    let movable: Vec<usize> = (0..pb.requests().len())
        .filter(|&r| pb.requests()[r].pinned.is_none())
        .collect();
    if movable.is_empty() {
        return Ok(SearchOutcome {
            best,
            iterations: 0,
        });
    }
    let t0 = config.start_temperature.max(1e-6);
    let t1 = config.end_temperature.clamp(1e-9, t0);
    let mut temperature = t0;
    let mut removed: Vec<usize> = Vec::with_capacity(64);
    let mut old: Vec<(usize, Placement)> = Vec::with_capacity(64);
    let mut inserted: Vec<usize> = Vec::with_capacity(64);
    let mut iterations: u64 = 0;
    loop {
        if iterations.is_multiple_of(64) {
            let frac = budget.fraction_used(iterations);
            if frac >= 1.0 {
                break;
            }
            temperature = t0 * (t1 / t0).powf(frac.clamp(0.0, 1.0));
        }
        iterations += 1;
        let before = st.objective();
        removed.clear();
        old.clear();
        inserted.clear();

        // Ruin: pick a seed request, preferring one that costs something.
        let mut seed = movable[rng.index(movable.len())];
        for _ in 0..6 {
            if st.cost[seed] > 0 {
                break;
            }
            seed = movable[rng.index(movable.len())];
        }
        ruin_region(&st, pb, seed, config, &mut rng, &mut removed, true);
        if removed.len() > 1 && rng.chance(config.cascade) {
            let other = removed[1 + rng.index(removed.len() - 1)];
            ruin_region(&st, pb, other, config, &mut rng, &mut removed, false);
        }
        if !removed.contains(&seed) {
            removed.push(seed);
        }
        removed.truncate(config.max_removed.max(1));
        for &r in &removed {
            if let Some(pl) = st.remove(r) {
                old.push((r, pl));
            }
        }

        // Recreate in one of several orders.
        let reqs = pb.requests();
        match rng.index(4) {
            0 => rng.shuffle(&mut removed),
            1 => {
                rng.shuffle(&mut removed);
                removed.sort_by_key(|&r| std::cmp::Reverse(reqs[r].duration_slots));
            }
            2 => {
                rng.shuffle(&mut removed);
                removed.sort_by_key(|&r| {
                    (
                        reqs[r].allowed_providers.len(),
                        std::cmp::Reverse(reqs[r].duration_slots),
                    )
                });
            }
            _ => {
                rng.shuffle(&mut removed);
                removed.sort_by_key(|&r| std::cmp::Reverse(reqs[r].unscheduled_penalty));
            }
        }
        if config.seed_first > 0.0
            && rng.chance(config.seed_first)
            && let Some(pos) = removed.iter().position(|&r| r == seed)
        {
            let first = removed.remove(pos);
            removed.insert(0, first);
        }
        let blink = if rng.chance(0.5) { config.blink } else { 0.0 };
        for &r in &removed {
            if let Some((_, pl)) = st.best_insertion(r, &mut rng, blink) {
                st.insert(r, pl);
                inserted.push(r);
            }
        }

        let after = st.objective();
        let delta = after - before;
        let accept = delta <= 0 || rng.next_f64() < (-(delta as f64) / temperature).exp();
        if accept {
            let key = (st.unscheduled, st.soft);
            if key < best_key {
                best_key = key;
                best.clone_from(&st.place);
            }
        } else {
            for &r in &inserted {
                st.remove(r);
            }
            for &(r, pl) in &old {
                st.insert(r, pl);
            }
        }
    }
    Ok(SearchOutcome { best, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::model::{SolverProvider, SolverRequest, Weights};

    #[test]
    fn incremental_cost_matches_from_scratch() {
        let providers = vec![
            SolverProvider {
                available: vec![run_mask(16), run_mask(16) << 4],
            };
            3
        ];
        let mut requests = Vec::new();
        for i in 0..30u16 {
            let mut r =
                SolverRequest::new(1 + i % 4, vec![u32::from(i % 3), u32::from((i + 1) % 3)]);
            r.preferred_day = Some(i % 2);
            r.preferred_window = Some((i % 10, i % 10 + 4));
            r.preferred_provider = Some(u32::from(i % 3));
            r.due_day = Some(0);
            r.patient = Some(u32::from(i % 5));
            requests.push(r);
        }
        let weights = Weights {
            idle_gap_slot: 2,
            overload_slot: 3,
            ..Weights::default()
        };
        let pb = Problem::new(2, 16, providers, requests, weights).unwrap();
        let mut st = State::new(&pb);
        let mut rng = SeededRng::new(1);
        st.construct(&mut rng);
        let check = |st: &State<'_>| {
            let score = crate::solver::evaluate(&pb, &st.place).unwrap();
            assert_eq!(score.unscheduled, st.unscheduled);
            assert_eq!(score.soft, st.soft);
        };
        check(&st);
        for r in [3usize, 7, 11, 20] {
            st.remove(r);
            check(&st);
        }
        for r in [7usize, 3] {
            if let Some((_, pl)) = st.best_insertion(r, &mut rng, 0.0) {
                st.insert(r, pl);
            }
            check(&st);
        }
    }
}
