//! 999 and 277CA acknowledgements moving claims through the lifecycle, with a work queue entry
//! in plain words for every rejection; applying the same acknowledgement twice changes nothing.

use bedside_ledger::ClaimStatus;
use bedside_ledger::x12::Submissions;
use bedside_ledger::x12::ack::{AckSource, Acknowledgements, parse_277ca, parse_999};
use bedside_ledger::x12::sim::fixture::ClaimFixture;
use bedside_ledger::x12::write837::write;

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

const ENVELOPE: &str = "ISA*00*          *00*          *ZZ*CH             *ZZ*BEDSIDECLINIC  *260310*0900*^*00501*000000077*0*P*:~GS*FA*CH*BEDSIDECLINIC*20260310*0900*77*X*005010X231A1~";
const CLOSE: &str = "GE*1*77~IEA*1*000000077~";

/// Six claims over several payers, written and submitted: (fixture, submissions, ST02 of the
/// first and second transaction set with their claims).
fn submitted() -> (ClaimFixture, Submissions) {
    let mut f = ok(ClaimFixture::new(3, 6));
    let inputs = f.inputs();
    let mut out = Vec::new();
    let mut submissions = Submissions::new();
    let at = ok("2026-03-09T08:00:00Z".parse());
    ok(write(&f.batch(&inputs), &mut submissions, at, &mut out));
    drop(inputs);
    let ids: Vec<_> = f.claims.iter().map(|c| c.id).collect();
    for id in ids {
        ok(f.book.transition(id, ClaimStatus::Submitted, at));
    }
    (f, submissions)
}

#[test]
fn a_999_acknowledges_one_set_and_rejects_another_naming_the_claim() {
    let (mut f, submissions) = submitted();
    let record = ok(submissions.get(1).cloned().ok_or("record"));
    assert!(record.transactions.len() >= 2, "claims over several payers");
    let (first, second) = (&record.transactions[0], &record.transactions[1]);
    let blamed = second.claims[0];
    let position = blamed.first_segment + 6;
    let body = format!(
        "ST*999*0001*005010X231A1~AK1*HC*1*005010X222A1~AK2*837*{}*005010X222A1~IK5*A~AK2*837*{}*005010X222A1~IK3*NM1*{position}*2010BA*8~IK4*9*67*6*SECRET~IK5*R*5~AK9*P*2*2*1~SE*10*0001~",
        first.control, second.control
    );
    let ack = parse_999(format!("{ENVELOPE}{body}{CLOSE}").as_bytes());
    assert_eq!(ack.diagnostics, vec![]);
    let mut acks = Acknowledgements::new();
    let at = ok("2026-03-10T09:00:00Z".parse());
    let summary = acks.apply_999(&ack, &submissions, &mut f.book, at);
    assert_eq!(summary.acknowledged, first.claims.len());
    assert_eq!(summary.rejected, second.claims.len());
    for c in &first.claims {
        assert_eq!(
            f.book.get(c.claim).map(|c| c.status),
            Some(ClaimStatus::Acknowledged)
        );
    }
    for c in &second.claims {
        assert_eq!(
            f.book.get(c.claim).map(|c| c.status),
            Some(ClaimStatus::Rejected)
        );
    }
    let queue = acks.work_queue();
    assert_eq!(queue.len(), second.claims.len());
    let item = queue.iter().find(|q| q.claim == Some(blamed.claim));
    assert_eq!(
        item.map(|i| (i.source, i.reason.as_str())),
        Some((
            AckSource::Implementation,
            format!("the clearinghouse rejected the claim: segment NM1 at position {position} (loop 2010BA): segment has data element errors; element 9 (data element 67): invalid character").as_str()
        ))
    );
    assert!(
        !format!("{queue:?}").contains("SECRET"),
        "bad-data copies are not kept"
    );
    // Again: nothing moves, nothing new is queued.
    let again = acks.apply_999(&ack, &submissions, &mut f.book, at);
    assert_eq!(
        (again.acknowledged, again.rejected, again.queued),
        (0, 0, 0)
    );
    assert_eq!(acks.work_queue().len(), second.claims.len());
}

#[test]
fn a_277ca_accepts_records_the_payer_number_and_rejects_in_plain_words() {
    let (mut f, _) = submitted();
    let controls: Vec<String> = f
        .claims
        .iter()
        .map(|c| c.control_number.expose().clone())
        .collect();
    let claim = |i: usize, stc: &str, reference: &str| {
        format!(
            "HL*{}*3*PT~NM1*QC*1*DOE*JO****MI*X~TRN*2*{}~STC*{stc}~{reference}",
            4 + i,
            controls[i]
        )
    };
    let body = format!(
        "ST*277*0001*005010X214~BHT*0085*08*1*20260310*0900*TH~HL*1**20*1~NM1*PR*2*ACME*****PI*ACME1~HL*2*1*21*1~NM1*41*2*CLINIC*****46*B~HL*3*2*19*1~NM1*85*2*CLINIC*****XX*1234567893~{}{}{}{}SE*30*0001~",
        claim(0, "A1:19:PR*20260310*WQ*100", ""),
        claim(1, "A2:20:PR*20260310*WQ*100", "REF*1K*PAYER0001~"),
        claim(2, "A3:33:IL*20260310*U*100", ""),
        // A second status in STC10.
        claim(3, "A7:562:85*20260310*U*100******A7:254", ""),
    );
    let ack = parse_277ca(format!("{}{body}{}", ENVELOPE.replace("FA", "HN"), CLOSE).as_bytes());
    assert_eq!(ack.diagnostics, vec![]);
    let mut acks = Acknowledgements::new();
    let at = ok("2026-03-10T09:00:00Z".parse());
    let summary = acks.apply_277ca(&ack, &mut f.book, at);
    let status = |i: usize| f.book.get(f.claims[i].id).map(|c| c.status);
    assert_eq!(
        [status(0), status(1), status(2), status(3), status(4)],
        [
            Some(ClaimStatus::Acknowledged),
            Some(ClaimStatus::Accepted),
            Some(ClaimStatus::Rejected),
            Some(ClaimStatus::Rejected),
            Some(ClaimStatus::Submitted),
        ]
    );
    assert_eq!(
        f.book
            .get(f.claims[1].id)
            .and_then(|c| c.payer_claim_number.as_ref().map(|n| n.expose().clone())),
        Some("PAYER0001".to_string())
    );
    assert_eq!((summary.rejected, summary.queued), (2, 2));
    let reasons: Vec<(&str, Vec<String>)> = acks
        .work_queue()
        .iter()
        .map(|q| (q.reason.as_str(), q.codes.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "the payer returned as unprocessable: subscriber and subscriber id not found (subscriber)",
                vec!["A3:33:IL".to_string()]
            ),
            (
                "the payer rejected for invalid information: entity's National Provider Identifier (NPI) (billing provider); rejected for invalid information: principal diagnosis code",
                vec!["A7:562:85".to_string(), "A7:254".to_string()]
            ),
        ]
    );
    // A fixed claim goes again: rejected → submitted is allowed.
    assert!(
        f.book
            .transition(f.claims[2].id, ClaimStatus::Submitted, at)
            .is_ok()
    );
    let again = acks.apply_277ca(&ack, &mut f.book, at);
    assert_eq!(again.queued, 0);
}
