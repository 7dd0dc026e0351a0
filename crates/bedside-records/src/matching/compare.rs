//! String and value comparators used by the matcher and the search index: Jaro–Winkler,
//! a phonetic code (American Soundex), bounded Damerau–Levenshtein distance and nickname
//! equivalence.
//!
//! All functions work on ASCII bytes of already normalised text (see
//! [`normalise_text`](super::normalise_text)); non-ASCII input is compared byte-wise.

/// The Jaro similarity of two byte strings, in `0.0..=1.0`. Two empty strings are identical (1.0).
pub fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    // Names are short; a fixed-size match mask on the stack keeps this allocation-free for the
    // common case. Longer inputs are truncated to 64 bytes, which only affects free text.
    let a = &a[..a.len().min(64)];
    let b = &b[..b.len().min(64)];
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = [false; 64];
    let mut a_match = [0u8; 64];
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == ca {
                b_used[j] = true;
                a_match[matches] = ca;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (j, &cb) in b.iter().enumerate() {
        if b_used[j] {
            if a_match[k] != cb {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let t = (transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// The Jaro–Winkler similarity (prefix scale 0.1, common prefix up to 4 bytes), in `0.0..=1.0`.
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    j + prefix * 0.1 * (1.0 - j)
}

/// The optimal-string-alignment (restricted Damerau–Levenshtein) distance between `a` and `b`,
/// or `None` when it exceeds `max`. Runs in `O(len * max)`-ish time on a small band.
pub fn bounded_edit_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a == b {
        return Some(0);
    }
    if max <= 1 {
        return (max == 1 && one_edit_apart(a, b)).then_some(1);
    }
    let n = b.len();
    // Three rolling rows of the classic dynamic programme; inputs here are short identifiers
    // and names, so the quadratic cost stays tiny, and the early exit bounds it further.
    let mut prev2 = vec![0usize; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[n];
    (d <= max).then_some(d)
}

/// Whether two different strings are exactly one edit apart (one substitution, insertion,
/// deletion or adjacent transposition), without allocating.
fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        0 => {
            if i == short.len() {
                return false;
            }
            short[i + 1..] == long[i + 1..]
                || (i + 1 < short.len()
                    && short[i] == long[i + 1]
                    && short[i + 1] == long[i]
                    && short[i + 2..] == long[i + 2..])
        }
        1 => short[i..] == long[i + 1..],
        _ => false,
    }
}

/// The American Soundex code of a normalised name: a letter and three digits, e.g. `R163` for
/// `robert` and `rupert`. Returns `None` when the input has no ASCII letter.
pub fn soundex(name: &[u8]) -> Option<[u8; 4]> {
    fn digit(c: u8) -> u8 {
        match c {
            b'b' | b'f' | b'p' | b'v' => b'1',
            b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            // Vowels and y separate repeated codes; h and w do not.
            b'h' | b'w' => b'-',
            _ => b'0',
        }
    }
    let mut letters = name
        .iter()
        .map(u8::to_ascii_lowercase)
        .filter(u8::is_ascii_lowercase);
    let first = letters.next()?;
    let mut code = [first.to_ascii_uppercase(), b'0', b'0', b'0'];
    let mut len = 1;
    let mut last = digit(first);
    for c in letters {
        let d = digit(c);
        if d == b'-' {
            continue;
        }
        if d != b'0' && d != last {
            code[len] = d;
            len += 1;
            if len == 4 {
                break;
            }
        }
        last = d;
    }
    Some(code)
}

/// Groups of given names that are the same name in everyday use (a formal name and its
/// nicknames). Each group is sorted by nothing in particular; lookups go through
/// [`nickname_group`].
const NICKNAME_GROUPS: &[&[&str]] = &[
    &[
        "margaret", "peggy", "maggie", "meg", "marge", "margie", "madge", "greta", "margo",
    ],
    &[
        "william", "bill", "billy", "will", "willy", "liam", "willie",
    ],
    &["robert", "bob", "bobby", "rob", "robbie", "bert"],
    &["richard", "dick", "rick", "ricky", "rich", "richie"],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "bess",
        "eliza",
        "libby",
        "elise",
        "lisa",
    ],
    &[
        "katherine",
        "catherine",
        "kathryn",
        "kate",
        "katie",
        "kathy",
        "cathy",
        "kat",
        "kitty",
    ],
    &["james", "jim", "jimmy", "jamie"],
    &["john", "jack", "johnny", "jon"],
    &["jonathan", "jon", "jonny"],
    &["michael", "mike", "mikey", "mick", "mickey"],
    &["thomas", "tom", "tommy"],
    &["joseph", "joe", "joey"],
    &["charles", "charlie", "chuck", "chas"],
    &["christopher", "chris", "kit", "topher"],
    &["christine", "christina", "chris", "chrissy", "tina"],
    &["daniel", "dan", "danny"],
    &["matthew", "matt", "matty"],
    &["anthony", "tony"],
    &["andrew", "andy", "drew"],
    &["edward", "ed", "eddie", "ted", "teddy", "ned"],
    &["alexander", "alex", "alec", "sandy", "xander"],
    &["alexandra", "alex", "sandra", "sandy", "lexi"],
    &["benjamin", "ben", "benny", "benji"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammy"],
    &["nicholas", "nick", "nicky"],
    &["patrick", "pat", "paddy"],
    &["patricia", "pat", "patty", "trish", "tricia"],
    &["stephen", "steven", "steve", "stevie"],
    &["timothy", "tim", "timmy"],
    &["jennifer", "jen", "jenny"],
    &["rebecca", "becky", "becca"],
    &["susan", "sue", "susie", "suzanne"],
    &["deborah", "debra", "deb", "debbie"],
    &["victoria", "vicky", "tori"],
    &["dorothy", "dot", "dottie", "dolly"],
    &["frances", "fran", "fanny", "frankie"],
    &["francis", "frank", "frankie"],
    &["gregory", "greg"],
    &["henry", "harry", "hank"],
    &["jacob", "jake"],
    &["joshua", "josh"],
    &["lawrence", "laurence", "larry", "laurie"],
    &["leonard", "leo", "len", "lenny"],
    &["ronald", "ron", "ronnie"],
    &["donald", "don", "donnie"],
    &["kenneth", "ken", "kenny"],
    &["peter", "pete"],
    &["raymond", "ray"],
    &["zachary", "zach", "zack"],
    &["abigail", "abby", "abbie"],
    &["amanda", "mandy"],
    &["barbara", "barb", "babs"],
    &["caroline", "carol", "carrie"],
    &["eleanor", "ellie", "nell", "nora"],
    &["helen", "nell", "nellie"],
    &["jessica", "jess", "jessie"],
    &["joanne", "jo", "joanna"],
    &["judith", "judy"],
    &["kimberley", "kimberly", "kim"],
    &["mary", "molly", "polly", "mae"],
    &["natalie", "nat"],
    &["nathan", "nathaniel", "nate", "nat"],
    &["olivia", "liv", "livvy"],
    &["pamela", "pam"],
    &["rosemary", "rose", "rosie"],
    &["sarah", "sara", "sally", "sadie"],
    &["theodore", "theo", "ted"],
    &["vincent", "vince", "vinny"],
    &["isabella", "isabelle", "bella", "izzy"],
    &["madeline", "madeleine", "maddy", "maddie"],
    &["jacqueline", "jackie"],
    &["angela", "angie"],
    &["benedict", "ben"],
    &["gerald", "gerry", "jerry"],
    &["geoffrey", "jeffrey", "geoff", "jeff"],
    &["douglas", "doug"],
    &["phillip", "philip", "phil"],
    &["terence", "terrence", "terry"],
    &["frederick", "fred", "freddie"],
    &["albert", "al", "bert"],
    &["allan", "alan", "allen", "al"],
    &["mathew", "matthew", "matt"],
];

/// Whether two normalised given names are the same name in everyday use, e.g. `peggy` and
/// `margaret`. Equal names are trivially equivalent.
pub fn nickname_equivalent(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    NICKNAME_GROUPS
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b))
}

/// The index of the first nickname group containing `name`, usable as a blocking or search key.
pub fn nickname_group(name: &str) -> Option<usize> {
    NICKNAME_GROUPS
        .iter()
        .position(|group| group.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_reference_values() {
        // Reference values from Winkler (1990) and the usual test suites.
        let cases = [
            ("martha", "marhta", 0.9611),
            ("dwayne", "duane", 0.84),
            ("dixon", "dicksonx", 0.8133),
            ("abc", "abc", 1.0),
            ("abc", "xyz", 0.0),
            ("", "", 1.0),
            ("a", "", 0.0),
        ];
        for (a, b, want) in cases {
            let got = jaro_winkler(a.as_bytes(), b.as_bytes());
            assert!((got - want).abs() < 1e-3, "{a} {b}: {got} != {want}");
        }
    }

    #[test]
    fn soundex_reference_values() {
        let cases = [
            ("robert", "R163"),
            ("rupert", "R163"),
            ("rubin", "R150"),
            ("ashcraft", "A261"),
            ("tymczak", "T522"),
            ("pfister", "P236"),
            ("honeyman", "H555"),
        ];
        for (name, want) in cases {
            let got = soundex(name.as_bytes()).map(|c| String::from_utf8_lossy(&c).into_owned());
            assert_eq!(got.as_deref(), Some(want), "{name}");
        }
        assert_eq!(soundex(b"123"), None);
    }

    #[test]
    fn edit_distance_cases() {
        let cases = [
            ("1234567", "1234567", 2, Some(0)),
            ("1234567", "1243567", 2, Some(1)),
            ("1234567", "1234568", 2, Some(1)),
            ("1234567", "123456", 2, Some(1)),
            ("1234567", "7654321", 2, None),
            ("kitten", "sitting", 3, Some(3)),
            ("", "ab", 1, None),
            ("", "a", 1, Some(1)),
            ("abcd", "abdc", 1, Some(1)),
            ("abcd", "abcd", 0, Some(0)),
            ("abcd", "abce", 0, None),
            ("abcd", "bacd", 1, Some(1)),
            ("abcd", "acbe", 1, None),
            ("abcd", "abd", 1, Some(1)),
            ("abcd", "xabcd", 1, Some(1)),
            ("abcd", "abxcd", 1, Some(1)),
            ("abcd", "dcba", 1, None),
        ];
        for (a, b, max, want) in cases {
            assert_eq!(
                bounded_edit_distance(a.as_bytes(), b.as_bytes(), max),
                want,
                "{a} {b}"
            );
        }
    }

    #[test]
    fn nicknames() {
        assert!(nickname_equivalent("peggy", "margaret"));
        assert!(nickname_equivalent("bill", "william"));
        assert!(!nickname_equivalent("bill", "robert"));
        assert_eq!(nickname_group("peggy"), nickname_group("margaret"));
        assert_eq!(nickname_group("zzz"), None);
    }
}
