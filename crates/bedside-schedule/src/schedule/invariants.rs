//! The no-double-booking invariant, checked from scratch.

use super::*;

impl Schedule {
    /// Verifies the schedule's invariant from scratch: no provider, room or patient has two
    /// resource-holding appointments or holds at once (designated overbookings aside), and
    /// equipment use never exceeds a pool. Returns a description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen: HashMap<(u8, u128), Vec<(usize, usize)>> = HashMap::new();
        let mut items: Vec<(SlotOption, PatientId)> = self
            .appointments
            .values()
            .filter(|a| a.status.holds_resources() && !a.overbooked)
            .map(|a| (Self::option_of(a), a.patient))
            .collect();
        items.extend(self.holds.values().map(|h| (h.option.clone(), h.patient)));
        let mut eq_use: HashMap<u128, Vec<u16>> = HashMap::new();
        for (o, patient) in &items {
            let (a, b, va, vb) = self.block_ranges(o).map_err(|e| e.to_string())?;
            let mut keys = vec![
                (0u8, o.provider.as_uuid().as_u128(), a, b),
                (2u8, patient.as_uuid().as_u128(), va, vb),
            ];
            if let Some(r) = o.room {
                keys.push((1u8, r.as_uuid().as_u128(), a, b));
            }
            for (kind, key, x, y) in keys {
                let v = seen.entry((kind, key)).or_default();
                if v.iter().any(|&(s, e)| s < y && x < e) {
                    return Err(format!(
                        "double booking of a {}",
                        ["provider", "room", "patient"][kind as usize]
                    ));
                }
                v.push((x, y));
            }
            if let Some(eq) = o.equipment {
                let units = self
                    .types
                    .get(&o.appointment_type)
                    .and_then(|t| t.equipment.as_ref())
                    .map_or(1, |e| e.1);
                let u = eq_use
                    .entry(eq.as_uuid().as_u128())
                    .or_insert_with(|| vec![0; self.slots]);
                for x in &mut u[va..vb] {
                    *x += units;
                }
            }
        }
        for pool in &self.pools {
            if let Some(u) = eq_use.get(&pool.id.as_uuid().as_u128())
                && u.iter().any(|&x| x > pool.count)
            {
                return Err("equipment over-used".to_string());
            }
        }
        Ok(())
    }
}
