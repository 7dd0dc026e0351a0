//! Persistence: a [`ScheduleSnapshot`] is the schedule's state as plain serde data, without
//! the availability bitsets, busy indices and per-slot tables that [`Schedule::restore`]
//! rebuilds from it.

use std::collections::BTreeMap;

use super::*;

/// Format version written by [`Schedule::snapshot`].
pub const SNAPSHOT_VERSION: u32 = 1;

/// A hold as stored in a [`ScheduleSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSnapshot {
    /// The hold.
    pub id: HoldId,
    /// The option held.
    pub option: SlotOption,
    /// For whom.
    pub patient: PatientId,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// Everything a [`Schedule`] knows, as plain data: what [`Schedule::snapshot`] returns and
/// [`Schedule::restore`] takes. Produced by the schedule, not written by hand (hence the
/// width).
///
/// Contains patient ids and appointment times; an embedder stores it as it stores other
/// PHI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSnapshot {
    /// [`SNAPSHOT_VERSION`] when written.
    pub version: u32,
    /// The grid.
    pub grid: GridConfig,
    /// Providers, in the order added.
    pub providers: Vec<Provider>,
    /// Rooms, in the order added.
    pub rooms: Vec<Room>,
    /// Equipment pools, in the order added.
    pub equipment: Vec<EquipmentPool>,
    /// Appointment types, by code.
    pub appointment_types: Vec<AppointmentType>,
    /// The overbooking policy.
    pub overbook_policy: OverbookPolicy,
    /// Periods providers were made unavailable by [`Schedule::repair_unavailable`].
    pub unavailable: Vec<(ProviderId, Period)>,
    /// Every appointment, by id, with its history.
    pub appointments: Vec<Appointment>,
    /// Live holds.
    pub holds: Vec<HoldSnapshot>,
    /// Client tokens and the appointments they booked.
    pub tokens: BTreeMap<String, AppointmentId>,
    /// The waitlist.
    pub waitlist: Vec<(WaitlistEntryId, WaitlistEntry)>,
    /// Who added and removed waitlist entries, oldest first.
    pub waitlist_history: Vec<WaitlistChange>,
}

impl Schedule {
    /// The schedule's state as plain data (no caches), for storage.
    pub fn snapshot(&self) -> ScheduleSnapshot {
        ScheduleSnapshot {
            version: SNAPSHOT_VERSION,
            grid: self.grid,
            providers: self.providers.clone(),
            rooms: self.rooms.clone(),
            equipment: self.pools.clone(),
            appointment_types: self.types.values().cloned().collect(),
            overbook_policy: self.overbook.clone(),
            unavailable: self.unavailable.clone(),
            appointments: self.appointments.values().cloned().collect(),
            holds: self
                .holds
                .iter()
                .map(|(&id, h)| HoldSnapshot {
                    id,
                    option: h.option.clone(),
                    patient: h.patient,
                    expires_at: h.expires_at,
                })
                .collect(),
            tokens: self.tokens.iter().map(|(k, &v)| (k.clone(), v)).collect(),
            waitlist: self.waitlist.iter().map(|(&k, v)| (k, v.clone())).collect(),
            waitlist_history: self.waitlist_history.clone(),
        }
    }

    /// Rebuilds a schedule from a snapshot: resources and types are added as by the `add_*`
    /// methods, then every resource-holding appointment and hold marks its slots again, and
    /// the no-double-booking invariant is checked.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidConfig`] for an unknown snapshot version, a grid, resource or
    /// type the `add_*` methods refuse, or a snapshot whose bookings double-book a resource;
    /// [`ScheduleError::NotFound`] when an unavailability names an unknown provider.
    pub fn restore(snapshot: ScheduleSnapshot) -> Result<Self, ScheduleError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(ScheduleError::InvalidConfig {
                reason: "unknown snapshot version",
            });
        }
        let mut s = Schedule::new(snapshot.grid)?;
        for p in snapshot.providers {
            s.add_provider(p)?;
        }
        for r in snapshot.rooms {
            s.add_room(r)?;
        }
        for e in snapshot.equipment {
            s.add_equipment(e)?;
        }
        for t in snapshot.appointment_types {
            s.add_appointment_type(t)?;
        }
        s.set_overbook_policy(snapshot.overbook_policy);
        for (provider, period) in snapshot.unavailable {
            let p = s.provider_index(provider)?;
            s.mark_unavailable(p, period);
            s.unavailable.push((provider, period));
        }
        for ap in snapshot.appointments {
            if ap.status.holds_resources() {
                s.occupy_appointment(&ap);
            }
            s.appointments.insert(ap.id, ap);
        }
        for h in snapshot.holds {
            if let Ok(r) = s.block_ranges(&h.option) {
                s.occupy(&h.option, h.patient, r, true);
            }
            s.holds.insert(
                h.id,
                Hold {
                    option: h.option,
                    patient: h.patient,
                    expires_at: h.expires_at,
                },
            );
        }
        s.tokens = snapshot.tokens.into_iter().collect();
        s.waitlist = snapshot.waitlist.into_iter().collect();
        s.waitlist_history = snapshot.waitlist_history;
        if s.check_invariants().is_err() {
            return Err(ScheduleError::InvalidConfig {
                reason: "the snapshot double-books a resource or patient",
            });
        }
        Ok(s)
    }

    /// Marks the slots of a stored resource-holding appointment, as booking it did.
    fn occupy_appointment(&mut self, ap: &Appointment) {
        let Ok(ranges) = self.block_of(ap) else {
            return;
        };
        if ap.overbooked {
            let (_, _, va, vb) = ranges;
            if let Ok(p) = self.provider_index(ap.provider) {
                Track::set(&mut self.overbook_busy[p], va, vb, true);
            }
            self.patient_busy
                .entry(ap.patient)
                .or_default()
                .insert(va, vb);
        } else {
            self.occupy(&Self::option_of(ap), ap.patient, ranges, true);
        }
    }
}
