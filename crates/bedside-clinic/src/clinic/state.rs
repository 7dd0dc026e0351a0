//! The in-memory domain state the journal rebuilds.

use super::*;

/// The in-memory domain state, rebuilt from the journal at start-up.
pub(super) struct State {
    pub(super) clock: Arc<ManualClock>,
    /// The internal id sequence (seeded: replaying the same journal gives the same ids).
    pub(super) ids: Arc<SeededIdGenerator>,
    pub(super) setup: Option<SetupSpec>,
    pub(super) registry: PatientRegistry,
    pub(super) schedule: Option<Schedule>,
    pub(super) engine: Engine,
    pub(super) audit: AuditLog,
    pub(super) reviews: ReviewQueue,
    pub(super) vitals: VitalsStore,
    pub(super) alerts: AlertBook,
    pub(super) discharged: BTreeMap<PatientId, Timestamp>,
    pub(super) confirmed: BTreeMap<AppointmentId, Timestamp>,
    /// Providers each patient has booked with: the source of the consent engine's
    /// [`CareTeam`] for that patient (not the record's `GeneralPractitioners`).
    pub(super) booked_providers: HashMap<PatientId, BTreeSet<ProviderId>>,
    pub(super) notes: HashMap<PatientId, Vec<Note>>,
    pub(super) duplicates: Vec<DuplicateCase>,
    /// Verified SMS identities: E.164 number → the patients sharing it (a family phone).
    pub(super) phones: HashMap<String, BTreeSet<PatientId>>,
    /// The number each patient is filed under in `phones`.
    pub(super) phone_filed_under: HashMap<PatientId, String>,
    /// Every current record, indexed for registration-time duplicate matching (the same
    /// Fellegi–Sunter model and thresholds as `bedside-records`' matcher and the `febrl` eval).
    pub(super) matches: MatchIndex,
    /// Every current record under each FHIR search parameter; built by the first patient
    /// search, then kept current by [`State::index_match`].
    pub(super) search: Option<super::search_index::SearchIndex>,
    /// Each patient's verified mobile number.
    pub(super) verified_phone: HashMap<PatientId, String>,
    /// Codes sent to numbers awaiting verification.
    pub(super) phone_codes: HashMap<PatientId, PendingCode>,
    /// Portal sign-in codes sent to verified numbers.
    pub(super) sign_in_codes: HashMap<PatientId, PendingCode>,
    /// Every proxy ever granted, revoked ones included (the access history shows both).
    pub(super) proxies: BTreeMap<RelatedPersonId, ProxyRecord>,
    /// Gateway message ids of inbound SMS already handled.
    pub(super) sms_seen: HashSet<String>,
    /// Payments by (patient, idempotency key): the request and the first answer.
    pub(super) payment_keys: HashMap<(PatientId, String), PaymentRecord>,
    /// Home-vitals uploads per patient on the latest UTC day they uploaded (only today's
    /// count limits anything, so earlier days are not kept).
    pub(super) vitals_uploads: HashMap<PatientId, (chrono::NaiveDate, u32)>,
    /// When each appointment's SMS reminders go out, and to which number, so a reply on a
    /// shared number can be matched to the reminder it answers.
    pub(super) sms_reminders: HashMap<AppointmentId, Vec<(String, Timestamp)>>,
    pub(super) survey: bedside_survey::SurveyDefinition,
    pub(super) invitations: BTreeMap<AppointmentId, Invitation>,
    pub(super) responses: Vec<bedside_survey::SurveyResponse>,
    pub(super) billing: Billing,
}

/// Stored audit lines as the text form `AuditLog` reads (one per line).
pub(super) fn audit_text(lines: &[String]) -> String {
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

impl State {
    /// Replays journaled commands (`first` commands precede them) at their recorded instants.
    pub(super) fn replay(
        &mut self,
        commands: &[(String, String, String)],
        first: u64,
        config: &ClinicConfig,
    ) -> Result<(), ClinicError> {
        for (i, (at, _kind, body)) in commands.iter().enumerate() {
            let corrupt = |m: String| StoreError::Corrupt {
                table: "commands",
                message: format!("command {}: {m}", first + i as u64 + 1),
            };
            let at: Timestamp = at.parse().map_err(|_| corrupt("bad instant".into()))?;
            // Any format this build reads (rows are never rewritten: see `crate::journal`).
            let cmd = crate::journal::decode(body).map_err(|e| corrupt(e.to_string()))?;
            self.apply(&cmd, at, config)
                .map(drop)
                .map_err(|e| corrupt(format!("does not replay: {e}")))?;
        }
        Ok(())
    }

    /// Applies one command at `at`: its reply and the effects it leaves for the store.
    pub(super) fn apply<C: Apply + ?Sized>(
        &mut self,
        command: &C,
        at: Timestamp,
        config: &ClinicConfig,
    ) -> Result<(C::Reply, Effects), ClinicError> {
        self.clock.set(at);
        let mut cx = Cx {
            at,
            config,
            fx: Effects::default(),
        };
        let reply = command.apply(self, &mut cx)?;
        Ok((reply, cx.fx))
    }

    /// Puts stored break-the-glass review items back in the queue, by audit sequence number.
    pub(super) fn enqueue_reviews(&mut self, reviews: Vec<(u64, String)>) {
        for (seq, justification) in reviews {
            // An entry's sequence number is its position in the chain.
            let event = self.audit.get(seq).map(|e| e.event.clone());
            if let Some(event) = event {
                self.reviews.enqueue(&event, Sensitive::new(justification));
            }
        }
    }
}

impl State {
    pub(super) fn new(policy: &str) -> Result<Self, ClinicError> {
        let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
        // A fixed seed: replaying the same journal regenerates the same internal ids.
        let ids = Arc::new(SeededIdGenerator::new(clock.clone(), 0x5eed));
        let policy = Policy::from_json(policy)
            .map_err(|e| ClinicError::bad(format!("consent policy: {e}")))?;
        Ok(State {
            registry: PatientRegistry::new(ids.clone()),
            ids,
            clock,
            setup: None,
            schedule: None,
            engine: Engine::new(policy),
            audit: AuditLog::new(),
            reviews: ReviewQueue::new(),
            vitals: VitalsStore::new(IngestConfig::default()),
            alerts: AlertBook::new(),
            discharged: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            booked_providers: HashMap::new(),
            notes: HashMap::new(),
            duplicates: Vec::new(),
            phones: HashMap::new(),
            phone_filed_under: HashMap::new(),
            matches: {
                let config = MatcherConfig::default();
                MatchIndex::new(Model::untrained(config.thresholds), config)
            },
            search: None,
            verified_phone: HashMap::new(),
            phone_codes: HashMap::new(),
            sign_in_codes: HashMap::new(),
            proxies: BTreeMap::new(),
            sms_seen: HashSet::new(),
            payment_keys: HashMap::new(),
            vitals_uploads: HashMap::new(),
            sms_reminders: HashMap::new(),
            survey: bedside_survey::Builtin::PostVisit
                .definition()
                .map_err(|e| ClinicError::bad(format!("post-visit survey: {e}")))?,
            invitations: BTreeMap::new(),
            responses: Vec::new(),
            billing: Billing::new()?,
        })
    }

    pub(super) fn schedule(&self) -> Result<&Schedule, ClinicError> {
        self.schedule
            .as_ref()
            .ok_or_else(|| ClinicError::conflict("the clinic is not set up"))
    }

    pub(super) fn schedule_mut(&mut self) -> Result<&mut Schedule, ClinicError> {
        self.schedule
            .as_mut()
            .ok_or_else(|| ClinicError::conflict("the clinic is not set up"))
    }

    pub(super) fn zone(&self) -> chrono_tz::Tz {
        self.setup.as_ref().map_or(chrono_tz::UTC, |s| s.grid.zone)
    }

    /// Re-indexes a patient's verified number: it stays an SMS identity only while it is
    /// still the mobile number on file.
    pub(super) fn index_phones(&mut self, id: PatientId) {
        // Only the number this patient was filed under is touched: O(1), not a scan of every
        // number (which made registration, and so start-up, grow with the population).
        if let Some(old) = self.phone_filed_under.remove(&id)
            && let Some(set) = self.phones.get_mut(&old)
        {
            set.remove(&id);
            if set.is_empty() {
                self.phones.remove(&old);
            }
        }
        let Some(verified) = self.verified_phone.get(&id).cloned() else {
            return;
        };
        if self.mobile_on_file(id).as_deref() == Some(verified.as_str()) {
            self.phones.entry(verified.clone()).or_default().insert(id);
            self.phone_filed_under.insert(id, verified);
        } else {
            self.verified_phone.remove(&id);
        }
    }

    /// Re-indexes a patient's current record for duplicate matching and, once the search
    /// index is built, for patient search: every change to a record calls it.
    pub(super) fn index_match(&mut self, id: PatientId) {
        let current = self.registry.current(id);
        if let Some(p) = current {
            self.matches.upsert(id, &MatchRecord::from(p));
        }
        if let Some(search) = &mut self.search {
            search.update(id, current);
        }
    }

    /// The patient's mobile number on file, in E.164.
    pub(super) fn mobile_on_file(&self, id: PatientId) -> Option<String> {
        let record = self.registry.current(id)?;
        record
            .telecom
            .iter()
            .filter(|t| t.system == Some(bedside_records::TelecomSystem::Phone))
            .find_map(|t| t.value.as_ref().and_then(|v| e164(v.expose())))
    }

    /// Marks the patient's number on file verified (or starts a verification with `code`).
    pub(super) fn set_phone_state(
        &mut self,
        id: PatientId,
        verified: bool,
        code: Option<&PhoneCode>,
    ) {
        self.verified_phone.remove(&id);
        self.phone_codes.remove(&id);
        if let Some(phone) = self.mobile_on_file(id) {
            if verified {
                self.verified_phone.insert(id, phone);
            } else if let Some(c) = code {
                self.phone_codes.insert(
                    id,
                    PendingCode {
                        phone,
                        hash: c.hash.clone(),
                        expires_at: c.expires_at,
                        attempts: 0,
                    },
                );
            }
        }
        self.index_phones(id);
    }

    /// The classes of a proxy's live grant (empty when revoked, expired or unknown).
    pub(super) fn proxy_classes(&self, principal: &Principal, now: Timestamp) -> ClassSet {
        let Principal::Proxy {
            related_person,
            patient,
        } = principal
        else {
            return ClassSet::default();
        };
        match self.proxies.get(related_person) {
            Some(r)
                if r.patient == *patient
                    && r.revoked_at.is_none()
                    && r.granted_at <= now
                    && now < r.until =>
            {
                r.classes
            }
            _ => ClassSet::default(),
        }
    }
}
