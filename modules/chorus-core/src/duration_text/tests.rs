use alloc::string::ToString;

use super::{DurationTextError, format_millis, parse_millis};

#[test]
fn each_unit_and_their_sums_are_read_as_milliseconds() {
    assert_eq!(parse_millis("250ms"), Ok(250));
    assert_eq!(parse_millis("2s"), Ok(2_000));
    assert_eq!(parse_millis("1m"), Ok(60_000));
    assert_eq!(parse_millis("1h"), Ok(3_600_000));
    assert_eq!(parse_millis("1m30s"), Ok(90_000));
    assert_eq!(parse_millis("1h1m1s1ms"), Ok(3_661_001));
    assert_eq!(parse_millis("0ms"), Ok(0));
}

#[test]
fn spaces_around_and_between_parts_are_allowed() {
    assert_eq!(parse_millis(" 1m 30s "), Ok(90_000));
    assert_eq!(parse_millis("2 s"), Ok(2_000));
}

#[test]
fn a_text_that_is_no_duration_is_refused_with_the_reason() {
    assert_eq!(parse_millis(""), Err(DurationTextError::Empty));
    assert_eq!(parse_millis("   "), Err(DurationTextError::Empty));
    assert_eq!(
        parse_millis("250"),
        Err(DurationTextError::MissingUnit { number: 250 })
    );
    assert_eq!(
        parse_millis("2 parsecs"),
        Err(DurationTextError::UnknownUnit {
            unit: "parsecs".to_string()
        })
    );
    assert_eq!(
        parse_millis("1.5s"),
        Err(DurationTextError::Unexpected { found: '.' })
    );
    assert_eq!(
        parse_millis("-5s"),
        Err(DurationTextError::Unexpected { found: '-' })
    );
    assert_eq!(
        parse_millis("s"),
        Err(DurationTextError::Unexpected { found: 's' })
    );
    assert_eq!(
        parse_millis("99999999999999999999ms"),
        Err(DurationTextError::TooLarge)
    );
    assert_eq!(
        parse_millis("18446744073709551615h"),
        Err(DurationTextError::TooLarge)
    );
}

#[test]
fn error_messages_say_what_to_write() {
    let unknown = parse_millis("2 parsecs").unwrap_err().to_string();
    assert!(unknown.contains("\"parsecs\""), "{unknown}");
    assert!(unknown.contains("ms, s, m"), "{unknown}");
    let missing = parse_millis("250").unwrap_err().to_string();
    assert!(missing.contains("250ms"), "{missing}");
}

#[test]
fn durations_are_written_in_the_shortest_exact_form() {
    assert_eq!(format_millis(0), "0ms");
    assert_eq!(format_millis(250), "250ms");
    assert_eq!(format_millis(1_000), "1s");
    assert_eq!(format_millis(1_500), "1500ms");
    assert_eq!(format_millis(2_000), "2s");
    assert_eq!(format_millis(90_000), "90s");
    assert_eq!(format_millis(600_000), "10m");
    assert_eq!(format_millis(3_600_000), "1h");
    assert_eq!(format_millis(3_600_001), "1h1ms");
    assert_eq!(format_millis(3_660_001), "61m1ms");
}

#[test]
fn what_is_written_reads_back_exactly() {
    let samples = [
        0,
        1,
        999,
        1_000,
        1_001,
        59_999,
        60_000,
        61_001,
        3_599_999,
        3_600_000,
        86_400_000,
        u64::MAX / 2,
        u64::MAX - 1,
        u64::MAX,
    ];
    for millis in samples {
        let text = format_millis(millis);
        assert_eq!(parse_millis(&text), Ok(millis), "{text}");
    }
    for millis in (0..200_000_u64).step_by(997) {
        assert_eq!(parse_millis(&format_millis(millis)), Ok(millis));
    }
}
