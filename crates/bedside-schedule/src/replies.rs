//! SMS reply intents: confirm, cancel, reschedule, opt-out, help, or unknown (routed to staff).
//!
//! [`parse_reply`] is tolerant of case, punctuation, emoji and one-letter typos in longer
//! words. An opt-out keyword (STOP, UNSUBSCRIBE, …) anywhere in the reply always wins: a
//! carrier and the law require honouring it whatever else the text says.

use serde::{Deserialize, Serialize};

/// What a patient's reply means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyIntent {
    /// Confirms the appointment.
    Confirm,
    /// Cancels it.
    Cancel,
    /// Wants another time.
    Reschedule,
    /// Stops all SMS (always wins).
    OptOut,
    /// Asks for help or information.
    Help,
    /// Anything else: route to staff.
    Unknown,
}

/// Longest reply considered; the rest is ignored.
pub const MAX_REPLY_CHARS: usize = 480;

const OPT_OUT: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "unsub",
    "optout",
    "quit",
    "end",
    "revoke",
];
const CONFIRM: &[&str] = &[
    "c",
    "y",
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "ok",
    "okay",
    "k",
    "kk",
    "confirm",
    "confirmed",
    "sure",
    "si",
    "sí",
    "oui",
    "will",
    "attending",
];
const CANCEL: &[&str] = &[
    "x",
    "cancel",
    "cancelled",
    "canceled",
    "cancellation",
    "anular",
    "annuler",
    "cancelar",
];
const RESCHEDULE: &[&str] = &[
    "r",
    "reschedule",
    "rescheduled",
    "resched",
    "rebook",
    "move",
    "change",
    "later",
    "earlier",
    "another",
    "different",
    "postpone",
    "cambiar",
    "déplacer",
    "deplacer",
];
const HELP: &[&str] = &["help", "info", "information", "ayuda", "aide", "?"];
const CONFIRM_EMOJI: &[char] = &['👍', '✅', '👌', '✔'];
const CANCEL_EMOJI: &[char] = &['❌', '👎'];

/// Parses a free-text reply.
pub fn parse_reply(text: &str) -> ReplyIntent {
    let text: String = text.chars().take(MAX_REPLY_CHARS).collect();
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '?' || c == '\''))
        .flat_map(|w| {
            // "?" is a word of its own; apostrophes join ("can't").
            let w = w.replace('\'', "");
            let mut parts = Vec::new();
            if w.contains('?') {
                parts.push("?".to_string());
            }
            let w: String = w.chars().filter(|c| *c != '?').collect();
            if !w.is_empty() {
                parts.push(w);
            }
            parts
        })
        .collect();
    let joined: String = words
        .iter()
        .filter(|w| *w != "?")
        .cloned()
        .collect::<Vec<_>>()
        .join("");
    let has = |set: &[&str]| words.iter().any(|w| matches(w, set));
    // Opt-out first, always; also "opt out" and "un subscribe" split across words.
    if has(OPT_OUT)
        || joined.contains("optout")
        || joined.contains("unsubscribe")
        || joined == "stp"
    {
        return ReplyIntent::OptOut;
    }
    let phrase = |p: &str| lower.contains(p);
    let reschedule = has(RESCHEDULE)
        || phrase("another time")
        || phrase("other time")
        || phrase("another day")
        || phrase("move it")
        || phrase("new time");
    let cancel = has(CANCEL)
        || text.chars().any(|c| CANCEL_EMOJI.contains(&c))
        || phrase("can't make")
        || phrase("cant make")
        || phrase("cannot make")
        || phrase("can't come")
        || phrase("cant come")
        || phrase("cannot come")
        || phrase("won't make")
        || phrase("wont make");
    let confirm = has(CONFIRM)
        || text.chars().any(|c| CONFIRM_EMOJI.contains(&c))
        || phrase("see you")
        || phrase("i'll be there")
        || phrase("ill be there");
    let help = has(HELP);
    if reschedule {
        ReplyIntent::Reschedule
    } else if cancel {
        ReplyIntent::Cancel
    } else if confirm {
        ReplyIntent::Confirm
    } else if help {
        ReplyIntent::Help
    } else {
        ReplyIntent::Unknown
    }
}

/// Whether `word` is in `set`, allowing one edit (substitution, insertion, deletion or
/// transposition) for words of five letters or more.
fn matches(word: &str, set: &[&str]) -> bool {
    set.iter().any(|k| {
        if *k == word {
            return true;
        }
        let kl = k.chars().count();
        kl >= 5 && word.chars().count() >= 4 && within_one_edit(word, k)
    })
}

fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let mut i = 0;
    while i < la.min(lb) && a[i] == b[i] {
        i += 1;
    }
    if i == la.min(lb) {
        return true; // differ only by a trailing character (or equal)
    }
    if la == lb {
        // Substitution, or adjacent transposition.
        a[i + 1..] == b[i + 1..]
            || (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..])
    } else if la > lb {
        a[i + 1..] == b[i..]
    } else {
        a[i..] == b[i + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReplyIntent::*;

    fn check(cases: &[(&str, ReplyIntent)]) {
        for (text, expected) in cases {
            assert_eq!(parse_reply(text), *expected, "reply {text:?}");
        }
    }

    #[test]
    fn confirmations() {
        check(&[
            ("C", Confirm),
            ("c", Confirm),
            ("Yes", Confirm),
            ("YES!!", Confirm),
            ("yes please", Confirm),
            ("ok", Confirm),
            ("Okay.", Confirm),
            ("confirm", Confirm),
            ("Confrim", Confirm),
            ("confirmd", Confirm),
            ("👍", Confirm),
            ("✅ thanks", Confirm),
            ("Sí", Confirm),
            ("oui", Confirm),
            ("see you then", Confirm),
            ("I'll be there", Confirm),
        ]);
    }

    #[test]
    fn cancellations_and_reschedules() {
        check(&[
            ("cancel", Cancel),
            ("CANCLE", Cancel),
            ("Please cancel my appointment", Cancel),
            ("X", Cancel),
            ("can't make it", Cancel),
            ("I cannot come", Cancel),
            ("❌", Cancel),
            ("R", Reschedule),
            ("r.", Reschedule),
            ("reschedule", Reschedule),
            ("reshcedule", Reschedule),
            ("can I move it?", Reschedule),
            ("Can we do another time", Reschedule),
            ("need to change the day", Reschedule),
            ("cancel and rebook please", Reschedule),
            ("yes but can I move it to later", Reschedule),
        ]);
    }

    #[test]
    fn stop_always_wins() {
        check(&[
            ("STOP", OptOut),
            ("stop", OptOut),
            ("Stop.", OptOut),
            ("STOP!!!", OptOut),
            ("UNSUBSCRIBE", OptOut),
            ("unsubscibe", OptOut),
            ("opt out", OptOut),
            ("opt-out", OptOut),
            ("stp", OptOut),
            ("yes STOP", OptOut),
            ("C stop", OptOut),
            ("please reschedule. also stop texting me", OptOut),
            ("cancel stopall", OptOut),
            ("👍 STOP", OptOut),
            ("quit", OptOut),
        ]);
    }

    #[test]
    fn help_and_unknown() {
        check(&[
            ("HELP", Help),
            ("help?", Help),
            ("?", Help),
            ("info", Help),
            ("", Unknown),
            ("   ", Unknown),
            ("who is this", Unknown),
            ("my rash is worse", Unknown),
            ("no", Unknown),
            ("maybe", Unknown),
        ]);
        // Long input is cut, not rejected.
        let long = "a".repeat(10_000) + " stop";
        assert_eq!(parse_reply(&long), Unknown);
    }

    #[test]
    fn edit_distance() {
        assert!(within_one_edit("confrim", "confirm"));
        assert!(within_one_edit("cancle", "cancel"));
        assert!(within_one_edit("cancl", "cancel"));
        assert!(!within_one_edit("cnacle", "cancel"));
        assert!(
            !matches("stap", &["stop"]),
            "short words need an exact match"
        );
    }
}
