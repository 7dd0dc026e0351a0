//! Conversion from the crate's [`Patient`] record to the matcher's [`MatchRecord`].

use super::record::{BirthDate, MatchRecord, Sex};
use crate::model::{AddressUse, AdministrativeGender, NameUse, Patient, TelecomSystem};

impl From<&Patient> for MatchRecord {
    /// Takes the fields registration matching compares: the current official (else usual, else
    /// first current) name, its first given name, the birth date, gender, the current home (else
    /// first current) address, the first phone or SMS number, and every identifier with a value.
    fn from(p: &Patient) -> Self {
        let mut r = MatchRecord::new();
        let current_names = || p.names.iter().filter(|n| n.use_ != Some(NameUse::Old));
        let name = current_names()
            .find(|n| n.use_ == Some(NameUse::Official))
            .or_else(|| current_names().find(|n| n.use_ == Some(NameUse::Usual)))
            .or_else(|| current_names().next());
        if let Some(n) = name {
            if let Some(g) = n.given.first() {
                r = r.given(g.expose());
            }
            if let Some(f) = &n.family {
                r = r.family(f.expose());
            }
        }
        if let Some(d) = &p.birth_date {
            r = r.birth_date(BirthDate::from(*d.expose()));
        }
        match p.gender {
            Some(AdministrativeGender::Female) => r = r.sex(Sex::Female),
            Some(AdministrativeGender::Male) => r = r.sex(Sex::Male),
            Some(AdministrativeGender::Other) => r = r.sex(Sex::Other),
            Some(AdministrativeGender::Unknown) | None => {}
        }
        let current_addresses = || {
            p.addresses
                .iter()
                .filter(|a| a.use_ != Some(AddressUse::Old))
        };
        let address = current_addresses()
            .find(|a| a.use_ == Some(AddressUse::Home))
            .or_else(|| current_addresses().next());
        if let Some(a) = address {
            for line in &a.lines {
                // A leading house number is compared on its own, the rest as address tokens.
                let text = line.expose().trim();
                match text.split_once(' ') {
                    Some((number, rest)) if number.bytes().any(|b| b.is_ascii_digit()) => {
                        r = r.house_number(number).address_line(rest);
                    }
                    _ => r = r.address_line(text),
                }
            }
            if let Some(c) = &a.city {
                r = r.locality(c.expose());
            }
            if let Some(s) = &a.state {
                r = r.region(s.expose());
            }
            if let Some(pc) = &a.postal_code {
                r = r.postcode(pc.expose());
            }
        }
        if let Some(phone) = p
            .telecom
            .iter()
            .filter(|t| matches!(t.system, Some(TelecomSystem::Phone | TelecomSystem::Sms)))
            .find_map(|t| t.value.as_ref())
        {
            r = r.phone(phone.expose());
        }
        for id in &p.identifiers {
            if let Some(v) = &id.value {
                r = r.identifier(id.system.as_deref().unwrap_or(""), v.expose());
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, ContactPoint, HumanName, Identifier, IdentifierKind};
    use bedside_core::{PartialDate, PatientId, Sensitive};

    #[test]
    fn patient_fields_reach_the_match_record() {
        let mut p = Patient::new(PatientId::from_uuid(Default::default()));
        p.names
            .push(HumanName::new(NameUse::Old, &["Maggie"], "Jones"));
        p.names.push(HumanName::new(
            NameUse::Official,
            &["Margaret", "Ann"],
            "O'Brien",
        ));
        p.birth_date = PartialDate::year_month(1970, 3).ok().map(Sensitive::new);
        p.gender = Some(AdministrativeGender::Female);
        p.addresses.push(Address {
            use_: Some(AddressUse::Home),
            lines: vec![Sensitive::new("12 Pridham Street".to_owned())],
            city: Some(Sensitive::new("Canberra".to_owned())),
            postal_code: Some(Sensitive::new("2600".to_owned())),
            ..Address::default()
        });
        p.telecom.push(ContactPoint::new(
            TelecomSystem::Email,
            "m@example.org",
            None,
        ));
        p.telecom.push(ContactPoint::new(
            TelecomSystem::Sms,
            "+61 412 345 678",
            None,
        ));
        p.identifiers.push(Identifier::new(
            IdentifierKind::MedicalRecordNumber,
            "urn:mrn",
            "A-1001",
        ));
        let r = MatchRecord::from(&p);
        assert_eq!(r.given_name().expose(), "margaret");
        assert_eq!(r.family_name().expose(), "obrien");
        assert_eq!(
            (r.birth().expose().year(), r.birth().expose().month()),
            (Some(1970), Some(3))
        );
        assert_eq!(r.sex_value(), Some(Sex::Female));
        assert_eq!(r.house_number_value().expose(), "12");
        assert_eq!(
            r.address_lines().expose(),
            &vec!["pridham street".to_owned()]
        );
        assert_eq!(r.postcode_value().expose(), "2600");
        assert_eq!(r.phone_value().expose(), "61412345678");
        assert_eq!(r.identifiers()[0].value.expose(), "a1001");
    }
}
