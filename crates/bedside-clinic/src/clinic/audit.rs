//! Access and audit: proxy grants, break-the-glass reviews, the patient's access history
//! and the audit chain's verification.

use super::*;

/// A proxy grant as the patient's access history shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ProxyRecord {
    pub(super) patient: PatientId,
    pub(super) relationship: Relationship,
    pub(super) classes: ClassSet,
    pub(super) granted_at: Timestamp,
    pub(super) until: Timestamp,
    pub(super) revoked_at: Option<Timestamp>,
}

/// A proxy granted (the token only in the grant's own answer).
#[derive(Debug, Clone, Serialize)]
pub struct ProxyGranted {
    /// The proxy.
    pub related_person: RelatedPersonId,
    /// The patient.
    pub patient: PatientId,
    /// The proxy's bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Sensitive<String>>,
}

/// A proxy revoked.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyRevoked {
    /// The proxy.
    pub related_person: RelatedPersonId,
    /// Always `true`.
    pub revoked: bool,
}

/// One proxy in the patient's access history (revoked ones included).
#[derive(Debug, Clone, Serialize)]
pub struct ProxyView {
    /// The proxy.
    pub related_person: RelatedPersonId,
    /// How they are related.
    pub relationship: Relationship,
    /// The data classes granted.
    pub classes: Vec<&'static str>,
    /// From.
    pub granted_at: Timestamp,
    /// Until.
    pub until: Timestamp,
    /// When the patient revoked it.
    pub revoked_at: Option<Timestamp>,
}

/// One access decision about the patient.
#[derive(Debug, Clone, Serialize)]
pub struct AccessView {
    /// Its position in the audit chain.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who (a PHI-free label).
    pub actor: String,
    /// What they asked to do.
    pub action: Action,
    /// Permit or deny.
    pub outcome: bedside_consent::Effect,
    /// Whether it was break-the-glass.
    pub break_glass: bool,
}

/// The patient's accounting of disclosures and access history.
#[derive(Debug, Clone, Serialize)]
pub struct AccessHistory {
    /// Disclosures the patient may ask an accounting of.
    pub disclosures: Vec<bedside_consent::DisclosureEntry>,
    /// Every access decision about the patient.
    pub accesses: Vec<AccessView>,
    /// Every proxy the patient granted.
    pub proxies: Vec<ProxyView>,
}

/// Where the chain breaks.
#[derive(Debug, Clone, Serialize)]
pub struct BreakView {
    /// The first batch that does not verify.
    pub first_bad_batch: u64,
    /// The last batch that does.
    pub last_good_batch: Option<u64>,
    /// Why.
    pub reason: String,
}

/// The audit chain's verification.
#[derive(Debug, Clone, Serialize)]
pub struct AuditVerification {
    /// Audit entries held.
    pub events: u64,
    /// Batches in the database.
    pub batches: u64,
    /// The chain's head hash.
    pub head: String,
    /// Whether the database and memory both verify.
    pub verified: bool,
    /// Where the database's chain breaks.
    pub broken: Option<BreakView>,
    /// What the in-memory log's own check found.
    pub audit_log: Option<String>,
    /// Why writes are refused, if they are.
    pub degraded: Option<String>,
}

/// The patient grants a proxy access.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantProxy {
    /// The grant.
    pub grant: ProxyGrant,
}

impl Apply for GrantProxy {
    type Reply = ProxyGranted;
    fn apply(&self, st: &mut State, _cx: &mut Cx<'_>) -> Result<ProxyGranted, ClinicError> {
        let GrantProxy { grant } = self;
        if st.registry.current(grant.patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        st.engine.add_proxy_grant(grant.clone());
        st.proxies.insert(
            grant.related_person,
            ProxyRecord {
                patient: grant.patient,
                relationship: grant.relationship,
                classes: grant.classes,
                granted_at: grant.period.start(),
                until: grant.period.end(),
                revoked_at: None,
            },
        );
        Ok(ProxyGranted {
            related_person: grant.related_person,
            patient: grant.patient,
            token: None,
        })
    }
}

/// The patient revokes a proxy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokeProxy {
    /// The proxy.
    pub related_person: RelatedPersonId,
    /// The patient.
    pub patient: PatientId,
}

impl Apply for RevokeProxy {
    type Reply = ProxyRevoked;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<ProxyRevoked, ClinicError> {
        let RevokeProxy {
            related_person,
            patient,
        } = self;
        let at = cx.at;
        let record = st
            .proxies
            .get_mut(related_person)
            .filter(|r| r.patient == *patient && r.revoked_at.is_none())
            .ok_or(ClinicError::NotFound { kind: "proxy" })?;
        record.revoked_at = Some(at);
        st.engine.revoke_proxy_grants(*related_person, *patient);
        Ok(ProxyRevoked {
            related_person: *related_person,
            revoked: true,
        })
    }
}

impl Clinic {
    /// The patient grants a related person proxy access to some classes, for a year; returns
    /// the proxy's token.
    ///
    /// # Errors
    /// Forbidden unless the patient themself; bad request for unknown classes.
    pub fn grant_proxy(
        &self,
        principal: &Principal,
        patient: PatientId,
        classes: &[String],
        relationship: Relationship,
    ) -> Result<ProxyGranted, ClinicError> {
        self.permit(Endpoint::GrantProxy, Some(principal), Some(patient))?;
        if classes.len() > DataClass::ALL.len() {
            return Err(ClinicError::bad("classes: too many"));
        }
        let mut set = ClassSet::default();
        let mut unknown = Vec::new();
        for (i, c) in classes.iter().enumerate() {
            match DataClass::from_code(c) {
                Some(dc) => {
                    set.insert(dc);
                }
                // The index, never the text: error messages do not echo request input.
                None => unknown.push(format!("classes[{i}]: unknown data class")),
            }
        }
        if !unknown.is_empty() || set.is_empty() {
            return Err(ClinicError::BadRequest {
                message: "classes: give one or more known data classes".into(),
                details: unknown,
            });
        }
        let related_person = RelatedPersonId::from_uuid(uuid::Uuid::now_v7());
        let now = self.now();
        let period = Period::starting_at(now, TimeDelta::days(365));
        let grant = ProxyGrant::new(related_person, patient, relationship, set, period);
        let (token, row) = self.fresh_token(&Principal::Proxy {
            related_person,
            patient,
        })?;
        let mut inner = self.lock();
        // The grant and its token commit together: no grant without a token, nor the reverse.
        let mut granted = self.execute_with(
            &mut inner,
            GrantProxy { grant },
            Batch {
                tokens: vec![row],
                ..Batch::default()
            },
        )?;
        granted.token = Some(Sensitive::new(token));
        Ok(granted)
    }

    /// The patient revokes a proxy: its token stops working at once, and the revocation shows
    /// in the patient's access history.
    ///
    /// # Errors
    /// Forbidden unless the patient themself; not found for an unknown or revoked proxy.
    pub fn revoke_proxy(
        &self,
        principal: &Principal,
        patient: PatientId,
        related_person: RelatedPersonId,
    ) -> Result<ProxyRevoked, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::RevokeProxy,
            Some(principal),
            Some(patient),
        )?;
        self.execute_locked(
            &mut inner,
            RevokeProxy {
                related_person,
                patient,
            },
        )
    }

    /// The break-the-glass review queue (privacy officer).
    ///
    /// # Errors
    /// Forbidden unless privacy officer.
    pub fn reviews(
        &self,
        principal: &Principal,
    ) -> Result<Vec<bedside_consent::ReviewItem>, ClinicError> {
        Self::staff_gate(Endpoint::Reviews, principal)?;
        let inner = self.lock();
        Ok(inner.state.reviews.pending().cloned().collect())
    }

    /// The patient's accounting of disclosures and of every access decision about them.
    ///
    /// # Errors
    /// Forbidden unless the patient themself.
    pub fn disclosures(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<AccessHistory, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::Disclosures,
            Some(principal),
            Some(patient),
        )?;
        self.authorize(
            &mut inner,
            principal,
            patient,
            Action::Read,
            &[DataClass::Demographics],
            None,
        )?;
        let now = self.now();
        let proxies: Vec<ProxyView> = inner
            .state
            .proxies
            .iter()
            .filter(|(_, r)| r.patient == patient)
            .map(|(id, r)| ProxyView {
                related_person: *id,
                relationship: r.relationship,
                classes: r.classes.iter().map(|c| c.code()).collect(),
                granted_at: r.granted_at,
                until: r.until,
                revoked_at: r.revoked_at,
            })
            .collect();
        // A clinic resumed from a snapshot holds only later entries; the rest are read back.
        let first_held = inner.state.audit.first_held();
        let mut older: Vec<bedside_consent::audit::AuditEntry> = Vec::new();
        if first_held > 0 {
            for line in inner
                .store
                .audit_mentioning(&patient.to_string(), first_held)?
            {
                let entry = serde_json::from_str::<bedside_consent::audit::AuditEntry>(&line)
                    .map_err(|e| StoreError::Corrupt {
                        table: "audit",
                        message: crate::error::json_problem(&e),
                    })?;
                if entry.event.patient == patient {
                    older.push(entry);
                }
            }
        }
        let all = || older.iter().chain(inner.state.audit.entries());
        let disclosures = accounting(all().map(|e| &e.event), patient, now);
        let accesses = all()
            .filter(|e| e.event.patient == patient)
            .map(|e| AccessView {
                seq: e.event.seq,
                at: e.event.recorded,
                actor: e.event.actor.clone(),
                action: e.event.action,
                outcome: e.event.outcome,
                break_glass: e.event.break_glass,
            })
            .collect();
        Ok(AccessHistory {
            disclosures,
            accesses,
            proxies,
        })
    }

    /// Verifies the audit chain end to end.
    ///
    /// # Errors
    /// Forbidden unless privacy officer or admin; conflict if the chain is broken.
    pub fn verify_audit(&self, principal: &Principal) -> Result<AuditVerification, ClinicError> {
        Self::staff_gate(Endpoint::VerifyAudit, principal)?;
        let mut inner = self.lock();
        // What is in the database now, against the checkpoint kept outside it — not memory.
        let report = inner.store.verify_chain()?;
        let memory = inner.state.audit.verify().err().map(|e| e.to_string());
        let verified = report.broken.is_none() && memory.is_none();
        Ok(AuditVerification {
            events: inner.state.audit.len(),
            batches: report.batches,
            head: report.head,
            verified,
            broken: report.broken.as_ref().map(|b| BreakView {
                first_bad_batch: b.first_bad_batch,
                last_good_batch: b.last_good_batch,
                reason: b.to_string(),
            }),
            audit_log: memory,
            degraded: inner.degraded.clone(),
        })
    }
}
