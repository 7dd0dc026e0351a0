//! Home monitoring: discharge, vitals uploads and the alerts they raise.

use super::*;

/// A patient under home monitoring.
#[derive(Debug, Clone, Serialize)]
pub struct Discharged {
    /// The patient.
    pub patient: PatientId,
    /// Always `true`.
    pub monitoring: bool,
}

/// One rejected line of a vitals upload.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedLine {
    /// The line number in the upload.
    pub record: Option<u32>,
    /// Why (no input quoted).
    pub reason: String,
}

/// An alert an upload raised.
#[derive(Debug, Clone, Serialize)]
pub struct RaisedAlert {
    /// The alert.
    pub alert: AlertId,
    /// The rule that fired.
    pub rule: String,
    /// Its severity code.
    pub severity: &'static str,
}

/// What a vitals upload stored and raised.
#[derive(Debug, Clone, Serialize)]
pub struct VitalsReport {
    /// Lines read.
    pub records: u64,
    /// Readings stored.
    pub accepted: u64,
    /// Readings already stored (not counted twice).
    pub duplicate: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// The first 100 rejected lines, each with its reason.
    pub rejections: Vec<RejectedLine>,
    /// Alerts raised or merged.
    pub new_alerts: usize,
    /// Alerts newly open for this patient.
    pub alerts: Vec<RaisedAlert>,
}

/// An open alert in the nurse queue.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    /// The alert.
    pub alert: AlertId,
    /// The patient.
    pub patient: PatientId,
    /// The rule that fired.
    pub rule: String,
    /// Severity code.
    pub severity: &'static str,
    /// Expected clinical response code.
    pub response: &'static str,
    /// When it fired.
    pub triggered_at: Timestamp,
    /// What it says (no personal data).
    pub message: String,
}

/// An alert acknowledged.
#[derive(Debug, Clone, Serialize)]
pub struct AlertAcknowledged {
    /// The alert.
    pub alert: AlertId,
    /// Always `true`.
    pub acknowledged: bool,
}

/// The patient is discharged to home monitoring.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discharge {
    /// The patient.
    pub patient: PatientId,
}

impl Apply for Discharge {
    type Reply = Discharged;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<Discharged, ClinicError> {
        let Discharge { patient } = self;
        let at = cx.at;
        if st.registry.current(*patient).is_none() {
            return Err(ClinicError::NotFound { kind: "patient" });
        }
        let zone = st.zone();
        st.vitals.register_patient(*patient, zone);
        st.discharged.entry(*patient).or_insert(at);
        Ok(Discharged {
            patient: *patient,
            monitoring: true,
        })
    }
}

/// Home vitals upload (NDJSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vitals {
    /// The patient uploading.
    pub patient: PatientId,
    /// Upload label.
    pub label: String,
    /// The NDJSON text.
    pub body: Sensitive<String>,
}

impl Apply for Vitals {
    type Reply = VitalsReport;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<VitalsReport, ClinicError> {
        let Vitals {
            patient,
            label,
            body,
        } = self;
        let at = cx.at;
        let fx = &mut cx.fx;
        let since = *st
            .discharged
            .get(patient)
            .ok_or_else(|| ClinicError::conflict("the patient is not under home monitoring"))?;
        // The patient uploads their own readings; the batch is taken in at `at`.
        let upload =
            bedside_vitals::Batch::new(label.as_str(), &Actor::Patient { patient: *patient }, at);
        let report = ndjson::ingest(&mut st.vitals, body.expose().as_bytes(), &upload)
            .map_err(|e| ClinicError::domain("vitals upload", &e))?;
        let mut plan = st
            .setup
            .as_ref()
            .map(|s| s.care_plan.clone())
            .unwrap_or_default();
        plan.monitoring_start = Some(since);
        let window = Period::new(since, at.max(since) + TimeDelta::seconds(1))
            .map_err(|e| ClinicError::domain("monitoring window", &e))?;
        let day = at.date_naive();
        let uploads = st.vitals_uploads.entry(*patient).or_insert((day, 0));
        match uploads.0.cmp(&day) {
            std::cmp::Ordering::Less => *uploads = (day, 1),
            std::cmp::Ordering::Equal => uploads.1 += 1,
            // An upload taken in at an earlier instant than the last (another node's clock)
            // counts towards a day that no longer limits anything.
            std::cmp::Ordering::Greater => {}
        }
        let kept: BTreeSet<u32> = report.accepted_records.iter().copied().collect();
        let mut stored = String::new();
        for (i, line) in body.expose().split('\n').enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if kept.contains(&number) {
                stored.push_str(line);
                stored.push('\n');
            }
        }
        fx.journal = Some(Command::Vitals(Vitals {
            patient: *patient,
            label: label.clone(),
            body: Sensitive::new(stored),
        }));
        let found = alert::evaluate(&st.vitals, *patient, &plan, &window);
        let before: BTreeSet<AlertId> = st.alerts.open().iter().map(|r| r.alert.id).collect();
        let new_count = st.alerts.merge(found);
        let mut raised = Vec::new();
        for rec in st.alerts.open() {
            if rec.alert.patient == *patient && !before.contains(&rec.alert.id) {
                raised.push(RaisedAlert {
                    alert: rec.alert.id,
                    rule: rec.alert.rule.clone(),
                    severity: rec.alert.severity.as_str(),
                });
                fx.outbox.push(OutboxMessage {
                    id: 0,
                    created_at: at.to_rfc3339(),
                    send_at: at.to_rfc3339(),
                    patient: patient.to_string(),
                    purpose: "nurse-alert".into(),
                    channel: "internal".into(),
                    address: "nurse-queue".into(),
                    body: format!(
                        "alert {} ({}) for patient {}",
                        rec.alert.rule,
                        rec.alert.severity.as_str(),
                        patient
                    ),
                    status: "pending".into(),
                });
            }
        }
        Ok(VitalsReport {
            records: report.records,
            accepted: report.accepted,
            duplicate: report.duplicate,
            rejected: report.rejected_total(),
            rejections: report
                .rejections
                .iter()
                .take(100)
                .map(|r| RejectedLine {
                    record: Some(r.position.record),
                    reason: r.reason.to_string(),
                })
                .collect(),
            new_alerts: new_count,
            alerts: raised,
        })
    }
}

/// A nurse acknowledges an alert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckAlert {
    /// The alert.
    pub alert: AlertId,
    /// Who.
    pub by: Actor,
}

impl Apply for AckAlert {
    type Reply = AlertAcknowledged;
    fn apply(&self, st: &mut State, cx: &mut Cx<'_>) -> Result<AlertAcknowledged, ClinicError> {
        let AckAlert { alert, by } = self;
        let at = cx.at;
        st.alerts
            .acknowledge(*alert, by, at)
            .map_err(|_| ClinicError::NotFound { kind: "alert" })?;
        Ok(AlertAcknowledged {
            alert: *alert,
            acknowledged: true,
        })
    }
}

impl Clinic {
    /// Discharge to home monitoring (clinician or nurse).
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn discharge(
        &self,
        principal: &Principal,
        patient: PatientId,
    ) -> Result<Discharged, ClinicError> {
        Self::staff_gate(Endpoint::Discharge, principal)?;
        self.run(Discharge { patient })
    }

    /// Home vitals upload (NDJSON) by the patient or a proxy with `vitals`.
    ///
    /// Every line is parsed and must name the patient in its `patient` field (a line naming
    /// anyone else refuses the whole upload, with the line numbers); readings timed before 1900
    /// or more than a day ahead are rejected with their line number; what the journal keeps is
    /// what was stored, not the raw body; each patient may upload
    /// [`ClinicConfig::vitals_uploads_per_day`] times a day.
    ///
    /// # Errors
    /// Forbidden; bad request naming the offending lines; conflict if not under monitoring;
    /// 429 over the daily limit.
    pub fn upload_vitals(
        &self,
        principal: &Principal,
        patient: PatientId,
        body: &str,
    ) -> Result<VitalsReport, ClinicError> {
        let mut inner = self.lock();
        self.permit_locked(
            &inner,
            Endpoint::UploadVitals,
            Some(principal),
            Some(patient),
        )?;
        let now = self.now();
        let today = inner
            .state
            .vitals_uploads
            .get(&patient)
            .filter(|(day, _)| *day == now.date_naive())
            .map_or(0, |(_, count)| *count);
        if today >= self.config.vitals_uploads_per_day {
            let midnight = (now.date_naive() + chrono::Days::new(1))
                .and_time(NaiveTime::MIN)
                .and_utc();
            return Err(ClinicError::LimitReached {
                what: "vitals uploads today",
                retry_after_seconds: u64::try_from((midnight - now).num_seconds().max(1))
                    .unwrap_or(1),
            });
        }
        let screened = screen_vitals(body, patient, now)?;
        let label = format!("upload-{}", uuid::Uuid::now_v7().simple());
        let mut report = self.execute_locked(
            &mut inner,
            Vitals {
                patient,
                label,
                body: Sensitive::new(screened.forwarded),
            },
        )?;
        // The parser numbered the lines it saw; report the upload's own line numbers, with
        // the lines screened out here first.
        for r in &mut report.rejections {
            r.record = r
                .record
                .and_then(|n| screened.numbers.get((n as usize).wrapping_sub(1)).copied());
        }
        if !screened.rejected.is_empty() {
            let n = screened.rejected.len() as u64;
            let mut rejections: Vec<RejectedLine> = screened
                .rejected
                .iter()
                .map(|line| RejectedLine {
                    record: Some(*line),
                    reason: "time out of range".into(),
                })
                .collect();
            rejections.append(&mut report.rejections);
            report.rejections = rejections;
            report.records += n;
            report.rejected += n;
        }
        Ok(report)
    }

    /// The nurse queue: open alerts, most severe first.
    ///
    /// # Errors
    /// Forbidden unless nurse or clinician.
    pub fn alerts(&self, principal: &Principal) -> Result<Vec<AlertView>, ClinicError> {
        Self::staff_gate(Endpoint::Alerts, principal)?;
        let inner = self.lock();
        Ok(inner
            .state
            .alerts
            .open()
            .iter()
            .map(|r| AlertView {
                alert: r.alert.id,
                patient: r.alert.patient,
                rule: r.alert.rule.clone(),
                severity: r.alert.severity.as_str(),
                response: r.alert.response.as_str(),
                triggered_at: r.alert.triggered_at,
                message: r.alert.message.clone(),
            })
            .collect())
    }

    /// A nurse acknowledges an alert.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub fn acknowledge_alert(
        &self,
        principal: &Principal,
        alert: AlertId,
    ) -> Result<AlertAcknowledged, ClinicError> {
        Self::staff_gate(Endpoint::AckAlert, principal)?;
        self.run(AckAlert {
            alert,
            by: self.actor(principal),
        })
    }

    // ---- visits and surveys -------------------------------------------------------------
}
pub(super) const DUPLICATE_KEY: &str = "duplicate field";

/// The fields of a reading line the clinic checks itself; any key repeated is an error.
#[derive(Default)]
pub(super) struct ReadingHead {
    pub(super) patient: Option<String>,
    pub(super) at: Option<String>,
}

impl<'de> Deserialize<'de> for ReadingHead {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ReadingHead;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a reading object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ReadingHead, A::Error> {
                let mut head = ReadingHead::default();
                let mut keys = HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !keys.insert(key.clone()) {
                        return Err(serde::de::Error::custom(DUPLICATE_KEY));
                    }
                    let value: serde_json::Value = map.next_value()?;
                    match key.as_str() {
                        "patient" => head.patient = value.as_str().map(str::to_string),
                        "at" => head.at = value.as_str().map(str::to_string),
                        _ => {}
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A vitals upload after the clinic's own checks.
pub(super) struct ScreenedVitals {
    /// The lines passed to the parser, one per line.
    pub(super) forwarded: String,
    /// The original line number of each forwarded line.
    pub(super) numbers: Vec<u32>,
    /// Original line numbers rejected for their time.
    pub(super) rejected: Vec<u32>,
}

/// Checks the patient of every line by parsing it (not by looking for a substring) and the
/// time range of each reading. Lines that are not JSON objects are passed on for the parser
/// to reject with its own reason.
pub(super) fn screen_vitals(
    body: &str,
    patient: PatientId,
    now: Timestamp,
) -> Result<ScreenedVitals, ClinicError> {
    let earliest = chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .unwrap_or(Timestamp::MIN_UTC);
    let latest = now + TimeDelta::days(1);
    let own = patient.to_string();
    let mut out = ScreenedVitals {
        forwarded: String::with_capacity(body.len()),
        numbers: Vec::new(),
        rejected: Vec::new(),
    };
    let mut foreign = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ReadingHead>(line) {
            Ok(head) => {
                if head.patient.as_deref() != Some(own.as_str()) {
                    foreign.push(format!("line {number}: patient"));
                    continue;
                }
                let at = head
                    .at
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                if at.is_some_and(|t| t < earliest || t > latest) {
                    out.rejected.push(number);
                    continue;
                }
            }
            // A repeated key could let the parser see another patient than this check did.
            Err(e) if e.to_string().starts_with(DUPLICATE_KEY) => {
                foreign.push(format!("line {number}: repeated field"));
                continue;
            }
            Err(_) => {}
        }
        out.forwarded.push_str(line.trim_end_matches('\r'));
        out.forwarded.push('\n');
        out.numbers.push(number);
    }
    if !foreign.is_empty() {
        foreign.truncate(100);
        return Err(ClinicError::BadRequest {
            message: "every reading must be about the patient of the upload".into(),
            details: foreign,
        });
    }
    Ok(out)
}
