//! X12 code lists in plain words, for work queue entries a person reads: 999 error codes,
//! 277CA claim status categories, status codes (list 508, the common ones) and entity codes.
//! Unknown codes are named by number with a pointer to the official list, never guessed.

/// IK502 transaction set syntax error codes in plain words.
pub fn set_error_words(code: &str) -> &'static str {
    match code {
        "1" => "transaction set not supported",
        "2" => "transaction set trailer missing",
        "3" => "control numbers in the header and trailer do not match",
        "4" => "the segment count in SE does not match the segments sent",
        "5" => "one or more segments in error",
        "6" => "missing or invalid transaction set identifier",
        "7" => "missing or invalid transaction set control number",
        "23" => "transaction set control number not unique within the group",
        "I5" => "implementation: one or more segments in error",
        "I6" => "implementation convention not supported",
        _ => "transaction set error (see the X12 999 code list)",
    }
}

/// IK304 segment syntax error codes in plain words.
pub fn segment_error_words(code: &str) -> &'static str {
    match code {
        "1" => "unrecognised segment",
        "2" => "unexpected segment",
        "3" => "required segment missing",
        "4" => "loop occurs more often than allowed",
        "5" => "segment occurs more often than allowed",
        "6" => "segment not in the transaction set",
        "7" => "segment out of order",
        "8" => "segment has data element errors",
        "I4" => "segment the guide says is not used",
        "I6" => "segment the guide requires here is missing",
        "I7" => "loop occurs fewer times than the guide requires",
        "I8" => "segment occurs fewer times than the guide requires",
        "I9" => "segment the guide does not use in this situation",
        _ => "segment error (see the X12 999 code list)",
    }
}

/// IK403 element syntax error codes in plain words.
pub fn element_error_words(code: &str) -> &'static str {
    match code {
        "1" => "required element missing",
        "2" => "conditionally required element missing",
        "3" => "too many elements",
        "4" => "value too short",
        "5" => "value too long",
        "6" => "invalid character",
        "7" => "invalid code value",
        "8" => "invalid date",
        "9" => "invalid time",
        "10" => "element excluded by another element's value",
        "12" => "too many repetitions",
        "13" => "too many components",
        "I6" => "code value the guide does not use",
        "I9" => "element the guide requires in this situation is missing",
        "I10" => "element the guide says is not used",
        "I11" => "too few repetitions",
        "I12" => "value does not match the guide's pattern",
        "I13" => "element the guide does not use in this situation",
        _ => "element error (see the X12 999 code list)",
    }
}

/// Claim status category codes in plain words.
pub fn category_words(code: &str) -> &'static str {
    match code {
        "A0" => "forwarded to another entity",
        "A1" => "received",
        "A2" => "accepted for processing",
        "A3" => "returned as unprocessable",
        "A4" => "not found",
        "A5" => "split into several claims and accepted",
        "A6" => "rejected for missing information",
        "A7" => "rejected for invalid information",
        "A8" => "rejected for relational field errors",
        "E0" | "E1" | "E2" | "E3" | "E4" => "could not be answered by the payer's system",
        "P0" | "P1" | "P2" | "P3" | "P4" | "P5" => "pending",
        "F0" | "F1" | "F2" | "F3" | "F4" => "finalised",
        "R0" | "R1" | "R3" | "R4" | "R5" | "R6" | "R7" | "R8" | "R9" | "R10" | "R11" | "R12"
        | "R13" | "R14" | "R15" | "R16" | "R17" => "waiting for requested information",
        _ => "given an unknown status category",
    }
}

/// Claim status codes (code list 508) in plain words; the common ones by name, others by
/// number.
pub fn status_words(code: &str) -> String {
    let words = match code {
        "" => return String::new(),
        "0" => "cannot give further status electronically",
        "1" => "see the remittance advice",
        "3" => "adjudicated, awaiting the payment cycle",
        "16" => "forwarded to another entity",
        "19" => "receipt acknowledged",
        "20" => "accepted for processing",
        "21" => "missing or invalid information",
        "24" => "not approved as an electronic submitter",
        "26" => "entity not found",
        "33" => "subscriber and subscriber id not found",
        "35" => "claim not found",
        "96" => "no agreement with the entity",
        "97" => "patient eligibility not found",
        "116" => "claim submitted to the wrong payer",
        "125" => "entity's name",
        "158" => "entity's date of birth",
        "164" => "entity's contract or member number",
        "187" => "dates of service",
        "254" => "principal diagnosis code",
        "255" => "diagnosis code",
        "400" => "claim is out of balance",
        "454" => "procedure code for services rendered",
        "562" => "entity's National Provider Identifier (NPI)",
        _ => return format!("status code {code} (see the X12 claim status code list)"),
    };
    words.to_string()
}

/// Entity identifier codes in plain words.
pub fn entity_words(code: &str) -> &'static str {
    match code {
        "" => "",
        "40" => "receiver",
        "41" => "submitter",
        "82" => "rendering provider",
        "85" => "billing provider",
        "IL" => "subscriber",
        "QC" => "patient",
        "PR" => "payer",
        "77" => "service location",
        _ => "another party",
    }
}
