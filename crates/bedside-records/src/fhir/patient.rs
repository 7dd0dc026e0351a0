//! FHIR R4 `Patient`, `RelatedPerson` and `Coverage`, and the datatypes they share.

use super::{
    INTERPRETER_REQUIRED, claim_extensions, data_absent, ext_string_value, ext_url_only,
    take_absent, write_required,
};
use crate::model::*;
use bedside_core::{
    Channel, ContactRoute, CoverageId, IdGenerator, IdGeneratorExt, PartialDate, PatientId,
    QuietHours, RelatedPersonId, Sensitive,
};
use bedside_fhir::codes::{extension_url, from_code, to_code};
use bedside_fhir::{ElementPath, Reader, Writer};
use serde_json::{Value, json};

pub(crate) const GENDER: &[(AdministrativeGender, &str)] = &[
    (AdministrativeGender::Male, "male"),
    (AdministrativeGender::Female, "female"),
    (AdministrativeGender::Other, "other"),
    (AdministrativeGender::Unknown, "unknown"),
];
const IDENTIFIER_USE: &[(IdentifierUse, &str)] = &[
    (IdentifierUse::Usual, "usual"),
    (IdentifierUse::Official, "official"),
    (IdentifierUse::Temp, "temp"),
    (IdentifierUse::Secondary, "secondary"),
    (IdentifierUse::Old, "old"),
];
const NAME_USE: &[(NameUse, &str)] = &[
    (NameUse::Usual, "usual"),
    (NameUse::Official, "official"),
    (NameUse::Temp, "temp"),
    (NameUse::Nickname, "nickname"),
    (NameUse::Anonymous, "anonymous"),
    (NameUse::Old, "old"),
    (NameUse::Maiden, "maiden"),
];
const ADDRESS_USE: &[(AddressUse, &str)] = &[
    (AddressUse::Home, "home"),
    (AddressUse::Work, "work"),
    (AddressUse::Temp, "temp"),
    (AddressUse::Old, "old"),
    (AddressUse::Billing, "billing"),
];
const ADDRESS_TYPE: &[(AddressType, &str)] = &[
    (AddressType::Postal, "postal"),
    (AddressType::Physical, "physical"),
    (AddressType::Both, "both"),
];
const TELECOM_SYSTEM: &[(TelecomSystem, &str)] = &[
    (TelecomSystem::Phone, "phone"),
    (TelecomSystem::Fax, "fax"),
    (TelecomSystem::Email, "email"),
    (TelecomSystem::Pager, "pager"),
    (TelecomSystem::Url, "url"),
    (TelecomSystem::Sms, "sms"),
    (TelecomSystem::Other, "other"),
];
const TELECOM_USE: &[(TelecomUse, &str)] = &[
    (TelecomUse::Home, "home"),
    (TelecomUse::Work, "work"),
    (TelecomUse::Temp, "temp"),
    (TelecomUse::Old, "old"),
    (TelecomUse::Mobile, "mobile"),
];

/// The Bedside extension marking a verified contact point.
pub(crate) fn ext_verified() -> String {
    extension_url("contact-point-verified")
}
fn ext_preference() -> String {
    extension_url("communication-preference")
}
fn ext_quiet_hours() -> String {
    extension_url("quiet-hours")
}
fn ext_proxy_scope() -> String {
    extension_url("proxy-scope")
}

// ---- datatypes ----

pub(crate) fn read_identifier(mut r: Reader<'_>) -> Identifier {
    Identifier {
        use_: r.parsed("use", |s| from_code(IDENTIFIER_USE, s)),
        type_: r.concept("type"),
        system: r.string("system"),
        value: r.sensitive("value"),
        period: r.period("period"),
        assigner: r.reference("assigner"),
        unmodelled: r.finish(),
    }
}

pub(crate) fn write_identifier(i: &Identifier) -> Value {
    let mut w = Writer::new();
    w.str("use", i.use_.map(|u| to_code(IDENTIFIER_USE, &u)));
    w.concept("type", i.type_.as_ref());
    w.str("system", i.system.as_deref());
    w.sensitive("value", i.value.as_ref());
    w.period("period", i.period.as_ref());
    w.reference("assigner", i.assigner.as_ref());
    w.finish(&i.unmodelled)
}

pub(crate) fn read_name(mut r: Reader<'_>) -> HumanName {
    HumanName {
        use_: r.parsed("use", |s| from_code(NAME_USE, s)),
        text: r.sensitive("text"),
        family: r.sensitive("family"),
        given: r.sensitive_strings("given"),
        prefix: r.sensitive_strings("prefix"),
        suffix: r.sensitive_strings("suffix"),
        period: r.period("period"),
        unmodelled: r.finish(),
    }
}

pub(crate) fn write_name(n: &HumanName) -> Value {
    let mut w = Writer::new();
    w.str("use", n.use_.map(|u| to_code(NAME_USE, &u)));
    w.sensitive("text", n.text.as_ref());
    w.sensitive("family", n.family.as_ref());
    w.sensitive_strings("given", &n.given);
    w.sensitive_strings("prefix", &n.prefix);
    w.sensitive_strings("suffix", &n.suffix);
    w.period("period", n.period.as_ref());
    w.finish(&n.unmodelled)
}

pub(crate) fn read_address(mut r: Reader<'_>) -> Address {
    Address {
        use_: r.parsed("use", |s| from_code(ADDRESS_USE, s)),
        type_: r.parsed("type", |s| from_code(ADDRESS_TYPE, s)),
        text: r.sensitive("text"),
        lines: r.sensitive_strings("line"),
        city: r.sensitive("city"),
        district: r.sensitive("district"),
        state: r.sensitive("state"),
        postal_code: r.sensitive("postalCode"),
        country: r.string("country"),
        period: r.period("period"),
        unmodelled: r.finish(),
    }
}

pub(crate) fn write_address(a: &Address) -> Value {
    let mut w = Writer::new();
    w.str("use", a.use_.map(|u| to_code(ADDRESS_USE, &u)));
    w.str("type", a.type_.map(|u| to_code(ADDRESS_TYPE, &u)));
    w.sensitive("text", a.text.as_ref());
    w.sensitive_strings("line", &a.lines);
    w.sensitive("city", a.city.as_ref());
    w.sensitive("district", a.district.as_ref());
    w.sensitive("state", a.state.as_ref());
    w.sensitive("postalCode", a.postal_code.as_ref());
    w.str("country", a.country.as_deref());
    w.period("period", a.period.as_ref());
    w.finish(&a.unmodelled)
}

pub(crate) fn read_contact_point(mut r: Reader<'_>) -> ContactPoint {
    let url = ext_verified();
    let claimed = claim_extensions(&mut r, |u| u == url);
    let canonical = [json!({"url": ext_verified(), "valueBoolean": true})];
    let verification = if claimed.is_empty() {
        Verification::Unverified
    } else if claimed == canonical {
        Verification::Verified
    } else {
        r.give_back("extension", Value::Array(claimed));
        Verification::Unverified
    };
    ContactPoint {
        system: r.parsed("system", |s| from_code(TELECOM_SYSTEM, s)),
        value: r.sensitive("value"),
        use_: r.parsed("use", |s| from_code(TELECOM_USE, s)),
        rank: r.uint("rank"),
        period: r.period("period"),
        verification,
        unmodelled: r.finish(),
    }
}

pub(crate) fn write_contact_point(c: &ContactPoint) -> Value {
    let mut w = Writer::new();
    if c.verification == Verification::Verified {
        w.list(
            "extension",
            vec![json!({"url": ext_verified(), "valueBoolean": true})],
        );
    }
    w.str("system", c.system.map(|s| to_code(TELECOM_SYSTEM, &s)));
    w.sensitive("value", c.value.as_ref());
    w.str("use", c.use_.map(|u| to_code(TELECOM_USE, &u)));
    w.uint("rank", c.rank);
    w.period("period", c.period.as_ref());
    w.finish(&c.unmodelled)
}

fn read_communication(mut r: Reader<'_>) -> Option<Communication> {
    let language = r.concept("language")?;
    Some(Communication {
        language,
        preferred: r.boolean("preferred"),
        unmodelled: r.finish(),
    })
}

fn write_communication(c: &Communication) -> Value {
    let mut w = Writer::new();
    w.concept("language", Some(&c.language));
    w.boolean("preferred", c.preferred);
    w.finish(&c.unmodelled)
}

fn read_contact(mut r: Reader<'_>) -> PatientContact {
    PatientContact {
        relationship: r.concepts("relationship"),
        name: r.object("name", read_name),
        telecom: r.objects("telecom", read_contact_point),
        address: r.object("address", read_address),
        gender: r.parsed("gender", |s| from_code(GENDER, s)),
        organization: r.reference("organization"),
        period: r.period("period"),
        unmodelled: r.finish(),
    }
}

fn write_contact(c: &PatientContact) -> Value {
    let mut w = Writer::new();
    w.concepts("relationship", &c.relationship);
    w.value("name", c.name.as_ref().map(write_name));
    w.list(
        "telecom",
        c.telecom.iter().map(write_contact_point).collect(),
    );
    w.value("address", c.address.as_ref().map(write_address));
    w.str("gender", c.gender.map(|g| to_code(GENDER, &g)));
    w.reference("organization", c.organization.as_ref());
    w.period("period", c.period.as_ref());
    w.finish(&c.unmodelled)
}

/// Reads communication communication-preference extension content.
fn parse_preference(ext: &Value) -> Option<ContactPreference> {
    if !ext_url_only(ext, &["extension"]) {
        return None;
    }
    let parts = ext.get("extension")?.as_array()?;
    let mut purpose = None;
    let mut routes = Vec::new();
    for part in parts {
        match part.get("url")?.as_str()? {
            "purpose" if purpose.is_none() && ext_url_only(part, &["valueCode"]) => {
                purpose = Some(ContactPurpose::parse(part.get("valueCode")?.as_str()?)?);
            }
            "route" if ext_url_only(part, &["extension"]) => {
                let fields = part.get("extension")?.as_array()?;
                if fields.len() != 3 {
                    return None;
                }
                let channel: Channel = ext_string_value(&fields[0], "channel", "valueCode")?
                    .parse()
                    .ok()?;
                let address = ext_string_value(&fields[1], "address", "valueString")?;
                let state = match ext_string_value(&fields[2], "state", "valueCode")? {
                    "opted-in" => OptState::OptedIn,
                    "opted-out" => OptState::OptedOut,
                    _ => return None,
                };
                routes.push(RoutePreference {
                    route: ContactRoute::new(channel, address),
                    state,
                });
            }
            _ => return None,
        }
    }
    Some(ContactPreference {
        purpose: purpose?,
        routes,
    })
}

fn write_preference(p: &ContactPreference) -> Value {
    let mut parts = vec![json!({"url": "purpose", "valueCode": p.purpose.as_str()})];
    for r in &p.routes {
        parts.push(json!({"url": "route", "extension": [
            {"url": "channel", "valueCode": r.route.channel.as_str()},
            {"url": "address", "valueString": r.route.address.expose()},
            {"url": "state", "valueCode": r.state.as_str()},
        ]}));
    }
    json!({"url": ext_preference(), "extension": parts})
}

fn parse_quiet_hours(ext: &Value) -> Option<QuietHours> {
    if !ext_url_only(ext, &["extension"]) {
        return None;
    }
    let parts = ext.get("extension")?.as_array()?;
    if parts.len() != 3 {
        return None;
    }
    let zone = ext_string_value(&parts[0], "zone", "valueCode")?
        .parse::<chrono_tz::Tz>()
        .ok()?;
    let start = parse_time(ext_string_value(&parts[1], "start", "valueTime")?)?;
    let end = parse_time(ext_string_value(&parts[2], "end", "valueTime")?)?;
    // Only whole-second times are written back identically.
    let text = |t: chrono::NaiveTime| t.format("%H:%M:%S").to_string();
    if Some(text(start).as_str()) != ext_string_value(&parts[1], "start", "valueTime")
        || Some(text(end).as_str()) != ext_string_value(&parts[2], "end", "valueTime")
    {
        return None;
    }
    Some(QuietHours::new(zone, start, end))
}

fn write_quiet_hours(q: &QuietHours) -> Value {
    json!({"url": ext_quiet_hours(), "extension": [
        {"url": "zone", "valueCode": q.zone.name()},
        {"url": "start", "valueTime": q.start.format("%H:%M:%S").to_string()},
        {"url": "end", "valueTime": q.end.format("%H:%M:%S").to_string()},
    ]})
}

// ---- Patient ----

pub(crate) fn read_patient(mut r: Reader<'_>, ids: &dyn IdGenerator) -> Patient {
    // A non-string id is not taken, so it stays unmodelled and is written back verbatim.
    let (logical_id, uuid) = LogicalId::classify(r.string("id").as_deref());
    let id = uuid.map_or_else(|| ids.generate(), PatientId::from_uuid);

    let pref_url = ext_preference();
    let quiet_url = ext_quiet_hours();
    let claimed = claim_extensions(&mut r, |u| {
        u == pref_url || u == quiet_url || u == INTERPRETER_REQUIRED
    });
    let mut preferences: Vec<ContactPreference> = Vec::new();
    let mut quiet_hours = None;
    let mut interpreter_needed = None;
    let mut parsed_all = true;
    for ext in &claimed {
        let url = ext.get("url").and_then(Value::as_str).unwrap_or_default();
        if url == pref_url {
            match parse_preference(ext) {
                Some(p) => preferences.push(p),
                None => parsed_all = false,
            }
        } else if url == quiet_url {
            match parse_quiet_hours(ext) {
                Some(q) if quiet_hours.is_none() => quiet_hours = Some(q),
                _ => parsed_all = false,
            }
        } else {
            match ext.get("valueBoolean").and_then(Value::as_bool) {
                Some(b) if interpreter_needed.is_none() && ext_url_only(ext, &["valueBoolean"]) => {
                    interpreter_needed = Some(b);
                }
                _ => parsed_all = false,
            }
        }
    }
    // Keep the parsed values only if export would write exactly what was read (one of each,
    // purposes in order, canonical element order); otherwise keep everything verbatim.
    let rendered = patient_extensions(interpreter_needed, &preferences, quiet_hours.as_ref());
    if !parsed_all || rendered != claimed {
        preferences.clear();
        quiet_hours = None;
        interpreter_needed = None;
        if !claimed.is_empty() {
            r.give_back("extension", Value::Array(claimed));
        }
    }

    let multiple_birth = r
        .boolean("multipleBirthBoolean")
        .map(MultipleBirth::Flag)
        .or_else(|| r.uint("multipleBirthInteger").map(MultipleBirth::Order));
    let deceased = r
        .boolean("deceasedBoolean")
        .map(Deceased::Flag)
        .or_else(|| r.date_time("deceasedDateTime").map(Deceased::At));

    Patient {
        id,
        logical_id,
        active: r.boolean("active"),
        identifiers: r.objects("identifier", read_identifier),
        names: r.objects("name", read_name),
        birth_date: r
            .parsed("birthDate", |s| s.parse::<PartialDate>().ok())
            .map(Sensitive::new),
        gender: r.parsed("gender", |s| from_code(GENDER, s)),
        deceased,
        marital_status: r.concept("maritalStatus"),
        multiple_birth,
        addresses: r.objects("address", read_address),
        telecom: r.objects("telecom", read_contact_point),
        communication: read_communications(&mut r),
        interpreter_needed,
        preferences,
        quiet_hours,
        contacts: r.objects("contact", read_contact),
        related_persons: Vec::new(),
        coverages: Vec::new(),
        care_team: GeneralPractitioners {
            general_practitioners: r.references("generalPractitioner"),
        },
        managing_organization: r.reference("managingOrganization"),
        links: read_links(&mut r),
        unmodelled: r.finish(),
    }
}

/// Communication entries need a representable `language`; if any does not have one the whole
/// array stays unmodelled.
fn read_communications(r: &mut Reader<'_>) -> Vec<Communication> {
    let Some(Value::Array(items)) = r.take_if("communication", Value::is_array) else {
        return Vec::new();
    };
    let original = Value::Array(items.clone());
    let path = r.child_path("communication");
    let mut notes = Vec::new();
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(map) = item else {
            r.give_back("communication", original);
            return Vec::new();
        };
        match read_communication(Reader::new(map, path.index(i), &mut notes)) {
            Some(c) => out.push(c),
            None => {
                r.give_back("communication", original);
                return Vec::new();
            }
        }
    }
    if out.is_empty() {
        r.give_back("communication", original);
    }
    out
}

const LINK_TYPE: &[(LinkType, &str)] = &[
    (LinkType::ReplacedBy, "replaced-by"),
    (LinkType::Replaces, "replaces"),
    (LinkType::Refer, "refer"),
    (LinkType::Seealso, "seealso"),
];

/// Links need a reference and a known type; otherwise the whole array stays unmodelled.
fn read_links(r: &mut Reader<'_>) -> Vec<PatientLink> {
    let parse = |v: &Value| -> Option<PatientLink> {
        let o = v.as_object()?;
        let type_ = from_code(LINK_TYPE, o.get("type")?.as_str()?)?;
        let mut map = o.clone();
        map.remove("type");
        let Value::Object(other) = map.remove("other")? else {
            return None;
        };
        let mut scratch = Vec::new();
        let other = Reference::read(Reader::new(other, ElementPath::default(), &mut scratch));
        Some(PatientLink {
            other,
            type_,
            unmodelled: Unmodelled::new(map),
        })
    };
    let Some(Value::Array(items)) = r.peek("link") else {
        return Vec::new();
    };
    let parsed: Option<Vec<PatientLink>> = items.iter().map(parse).collect();
    match parsed {
        Some(links) if !links.is_empty() => {
            r.take_if("link", |_| true);
            links
        }
        _ => Vec::new(),
    }
}

fn write_link(l: &PatientLink) -> Value {
    let mut w = Writer::new();
    w.reference("other", Some(&l.other));
    w.str("type", Some(to_code(LINK_TYPE, &l.type_)));
    w.finish(&l.unmodelled)
}

/// The extensions export writes for a patient, in order.
fn patient_extensions(
    interpreter_needed: Option<bool>,
    preferences: &[ContactPreference],
    quiet_hours: Option<&QuietHours>,
) -> Vec<Value> {
    let mut exts = Vec::new();
    if let Some(b) = interpreter_needed {
        exts.push(json!({"url": INTERPRETER_REQUIRED, "valueBoolean": b}));
    }
    exts.extend(preferences.iter().map(write_preference));
    if let Some(q) = quiet_hours {
        exts.push(write_quiet_hours(q));
    }
    exts
}

pub(crate) fn write_patient(p: &Patient) -> Value {
    let mut w = Writer::resource("Patient");
    w.str("id", p.logical_id.resolve(&p.id.to_string()).as_deref());
    w.list(
        "extension",
        patient_extensions(p.interpreter_needed, &p.preferences, p.quiet_hours.as_ref()),
    );
    w.boolean("active", p.active);
    w.list(
        "identifier",
        p.identifiers.iter().map(write_identifier).collect(),
    );
    w.list("name", p.names.iter().map(write_name).collect());
    w.list(
        "telecom",
        p.telecom.iter().map(write_contact_point).collect(),
    );
    w.str("gender", p.gender.map(|g| to_code(GENDER, &g)));
    w.value(
        "birthDate",
        p.birth_date
            .as_ref()
            .map(|d| Value::String(d.expose().to_string())),
    );
    match &p.deceased {
        Some(Deceased::Flag(b)) => w.boolean("deceasedBoolean", Some(*b)),
        Some(Deceased::At(d)) => w.date_time("deceasedDateTime", Some(d)),
        None => {}
    }
    w.concept("maritalStatus", p.marital_status.as_ref());
    match p.multiple_birth {
        Some(MultipleBirth::Flag(b)) => w.boolean("multipleBirthBoolean", Some(b)),
        Some(MultipleBirth::Order(n)) => w.uint("multipleBirthInteger", Some(n)),
        None => {}
    }
    w.list("address", p.addresses.iter().map(write_address).collect());
    w.list("contact", p.contacts.iter().map(write_contact).collect());
    w.list(
        "communication",
        p.communication.iter().map(write_communication).collect(),
    );
    w.references("generalPractitioner", &p.care_team.general_practitioners);
    w.reference("managingOrganization", p.managing_organization.as_ref());
    w.list("link", p.links.iter().map(write_link).collect());
    w.finish(&p.unmodelled)
}

// ---- RelatedPerson ----

pub(crate) fn read_related_person(
    mut r: Reader<'_>,
    ids: &dyn IdGenerator,
) -> Option<RelatedPerson> {
    let patient = r.reference("patient")?;
    let (logical_id, uuid) = LogicalId::classify(r.string("id").as_deref());
    let scope_url = ext_proxy_scope();
    let claimed = claim_extensions(&mut r, |u| u == scope_url);
    let proxy_scopes: Vec<ProxyScope> = claimed
        .iter()
        .filter(|e| ext_url_only(e, &["valueCode"]))
        .filter_map(|e| {
            e.get("valueCode")
                .and_then(Value::as_str)
                .and_then(ProxyScope::parse)
        })
        .collect();
    let rendered: Vec<Value> = proxy_scopes.iter().map(|s| write_proxy_scope(*s)).collect();
    let proxy_scopes = if rendered == claimed {
        proxy_scopes
    } else {
        r.give_back("extension", Value::Array(claimed));
        Vec::new()
    };
    Some(RelatedPerson {
        id: uuid.map_or_else(|| ids.generate(), RelatedPersonId::from_uuid),
        logical_id,
        active: r.boolean("active"),
        patient,
        relationship: r.concepts("relationship"),
        names: r.objects("name", read_name),
        telecom: r.objects("telecom", read_contact_point),
        gender: r.parsed("gender", |s| from_code(GENDER, s)),
        birth_date: r
            .parsed("birthDate", |s| s.parse::<PartialDate>().ok())
            .map(Sensitive::new),
        addresses: r.objects("address", read_address),
        period: r.period("period"),
        proxy_scopes,
        unmodelled: r.finish(),
    })
}

fn write_proxy_scope(scope: ProxyScope) -> Value {
    json!({"url": ext_proxy_scope(), "valueCode": scope.as_str()})
}

pub(crate) fn write_related_person(p: &RelatedPerson) -> Value {
    let mut w = Writer::resource("RelatedPerson");
    w.str("id", p.logical_id.resolve(&p.id.to_string()).as_deref());
    w.list(
        "extension",
        p.proxy_scopes
            .iter()
            .map(|s| write_proxy_scope(*s))
            .collect(),
    );
    w.boolean("active", p.active);
    w.reference("patient", Some(&p.patient));
    w.concepts("relationship", &p.relationship);
    w.list("name", p.names.iter().map(write_name).collect());
    w.list(
        "telecom",
        p.telecom.iter().map(write_contact_point).collect(),
    );
    w.str("gender", p.gender.map(|g| to_code(GENDER, &g)));
    w.value(
        "birthDate",
        p.birth_date
            .as_ref()
            .map(|d| Value::String(d.expose().to_string())),
    );
    w.list("address", p.addresses.iter().map(write_address).collect());
    w.period("period", p.period.as_ref());
    w.finish(&p.unmodelled)
}

// ---- Coverage ----

fn read_class(mut r: Reader<'_>) -> Option<CoverageClass> {
    let type_ = r.concept("type")?;
    Some(CoverageClass {
        type_,
        value: r.string("value"),
        name: r.string("name"),
        unmodelled: r.finish(),
    })
}

fn write_class(c: &CoverageClass) -> Value {
    let mut w = Writer::new();
    w.concept("type", Some(&c.type_));
    w.str("value", c.value.as_deref());
    w.str("name", c.name.as_deref());
    w.finish(&c.unmodelled)
}

pub(crate) fn read_coverage(mut r: Reader<'_>, ids: &dyn IdGenerator) -> Coverage {
    let (logical_id, uuid) = LogicalId::classify(r.string("id").as_deref());
    // Classes need a representable type; otherwise the array stays unmodelled.
    let classes = match r.take_if("class", Value::is_array) {
        Some(Value::Array(items)) => {
            let mut notes = Vec::new();
            let path = r.child_path("class");
            let parsed: Option<Vec<CoverageClass>> = items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => {
                        read_class(Reader::new(m.clone(), path.index(i), &mut notes))
                    }
                    _ => None,
                })
                .collect();
            match parsed {
                Some(list) if !list.is_empty() => list,
                _ => {
                    r.give_back("class", Value::Array(items));
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    };
    // What export writes for an unknown beneficiary or payer reads back as absent.
    take_absent(&mut r, "beneficiary", &data_absent());
    take_absent(&mut r, "payor", &json!([data_absent()]));
    Coverage {
        id: uuid.map_or_else(|| ids.generate(), CoverageId::from_uuid),
        logical_id,
        identifiers: r.objects("identifier", read_identifier),
        status: r.string("status"),
        type_: r.concept("type"),
        policy_holder: r.reference("policyHolder"),
        subscriber: r.reference("subscriber"),
        member_id: r.sensitive("subscriberId"),
        beneficiary: r.reference("beneficiary"),
        dependent: r.string("dependent"),
        relationship: r.concept("relationship"),
        period: r.period("period"),
        payor: r.references("payor"),
        classes,
        order: r.uint("order"),
        network: r.string("network"),
        unmodelled: r.finish(),
    }
}

pub(crate) fn write_coverage(c: &Coverage) -> Value {
    let mut w = Writer::resource("Coverage");
    w.str("id", c.logical_id.resolve(&c.id.to_string()).as_deref());
    w.list(
        "identifier",
        c.identifiers.iter().map(write_identifier).collect(),
    );
    // R4 requires status, beneficiary and payor. An absent status is `active`, as
    // `Coverage::is_in_force` reads it; the others, when unknown, say so.
    match c.status.as_deref() {
        Some(s) => w.str("status", Some(s)),
        None => write_required(&mut w, &c.unmodelled, &[], "status", json!("active")),
    }
    w.concept("type", c.type_.as_ref());
    w.reference("policyHolder", c.policy_holder.as_ref());
    w.reference("subscriber", c.subscriber.as_ref());
    w.sensitive("subscriberId", c.member_id.as_ref());
    match &c.beneficiary {
        Some(b) => w.reference("beneficiary", Some(b)),
        None => write_required(&mut w, &c.unmodelled, &[], "beneficiary", data_absent()),
    }
    w.str("dependent", c.dependent.as_deref());
    w.concept("relationship", c.relationship.as_ref());
    w.period("period", c.period.as_ref());
    if c.payor.is_empty() {
        write_required(&mut w, &c.unmodelled, &[], "payor", json!([data_absent()]));
    } else {
        w.references("payor", &c.payor);
    }
    w.list("class", c.classes.iter().map(write_class).collect());
    w.uint("order", c.order);
    w.str("network", c.network.as_deref());
    w.finish(&c.unmodelled)
}
