use super::*;

#[test]
fn offsets_are_normalised_to_utc() {
    let t = Timestamp::parse("2024-01-15T23:30:00-02:00").unwrap();
    assert_eq!(t.to_string(), "2024-01-16T01:30:00Z");
    let t = Timestamp::parse("2024-01-15T10:30:00.250Z").unwrap();
    assert_eq!(t.to_string(), "2024-01-15T10:30:00.250Z");
}

#[test]
fn a_timestamp_without_offset_is_rejected_clearly() {
    let err = Timestamp::parse("2024-01-15T10:30:00").unwrap_err();
    assert!(err.contains("no UTC offset"), "{err}");
    let err = Timestamp::parse("yesterday").unwrap_err();
    assert!(err.contains("not an RFC 3339 timestamp"), "{err}");
}

#[test]
fn unknown_traits_are_kept_and_known_ones_typed() {
    let t: Traits =
        serde_json::from_str(r#"{"email":"a@b","marketing_opt_in":true,"tier":"gold"}"#).unwrap();
    assert_eq!(t.get("marketing_opt_in"), Some(Value::Bool(true)));
    assert_eq!(t.get("tier"), Some(Value::String("gold".into())));
    assert_eq!(t.get("country"), None);
    assert!(serde_json::from_str::<Traits>(r#"{"marketing_opt_in":"yes"}"#).is_err());
}

#[test]
fn timestamps_outside_1970_to_9999_are_rejected() {
    for bad in [
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
    ] {
        let err = Timestamp::parse(bad).unwrap_err();
        assert!(err.contains("out of range"), "{bad}: {err}");
    }
    for good in [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999999Z",
        "1970-01-01T00:00:00Z",
        "1970-01-01T01:00:00+01:00",
    ] {
        assert!(Timestamp::parse(good).is_ok(), "{good}");
    }
}

#[test]
fn ids_with_control_characters_or_over_256_chars_are_rejected() {
    assert!(check_id(r"user\n1").is_ok());
    let err = check_id("user\n1 | event_id=3").unwrap_err();
    assert!(err.contains("control character"), "{err}");
    assert!(check_id(&"é".repeat(256)).is_ok());
    let err = check_id(&"é".repeat(257)).unwrap_err();
    assert!(err.contains("257 characters"), "{err}");
}

#[test]
fn idempotency_keys_are_1_to_128_printable_characters() {
    assert!(check_key("order-42/retry").is_ok());
    assert!(check_key(&"é".repeat(128)).is_ok());
    let err = check_key(&"k".repeat(129)).unwrap_err();
    assert!(err.contains("129 characters"), "{err}");
    assert!(check_key("").unwrap_err().contains("empty"));
    assert!(check_key("a\tb").unwrap_err().contains("control character"));
    let r: Result<EventInput, _> = serde_json::from_str(
        r#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-01T00:00:00Z","idempotency_key":""}"#,
    );
    assert!(r.unwrap_err().to_string().contains("empty"));
}

#[test]
fn the_fingerprint_ignores_key_order_and_offsets_but_not_values() {
    let parse = |s: &str| Event::from(serde_json::from_str::<EventInput>(s).unwrap());
    let a = parse(
        r#"{"user_id":"u","event_type":"x","event_timestamp":"2024-01-01T02:00:00+02:00",
            "properties":{"a":1,"b":{"y":[1,{"q":1,"p":2}],"x":2}},
            "user_traits":{"tier":"gold","email":"a@b"},"idempotency_key":"k1"}"#,
    );
    let b = parse(
        r#"{"idempotency_key":"k2","user_traits":{"email":"a@b","tier":"gold"},
            "properties":{"b":{"x":2,"y":[1,{"p":2,"q":1}]},"a":1},
            "event_timestamp":"2024-01-01T00:00:00Z","event_type":"x","user_id":"u"}"#,
    );
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.fingerprint().len(), 64);
    assert!(a.differing_fields(&b).is_empty());
    let mut c = b.clone();
    c.properties.insert("a".into(), Value::from(2));
    c.user_id = "v".into();
    assert_ne!(a.fingerprint(), c.fingerprint());
    assert_eq!(a.differing_fields(&c), vec!["user_id", "properties"]);
    // Absent traits and empty traits are the same identity.
    let mut d = a.clone();
    d.user_traits = None;
    let mut e = a.clone();
    e.user_traits = Some(Traits::default());
    assert_eq!(d.fingerprint(), e.fingerprint());
}

#[test]
fn empty_user_id_is_rejected() {
    let r: Result<EventInput, _> = serde_json::from_str(
        r#"{"user_id":" ","event_type":"x","event_timestamp":"2024-01-01T00:00:00Z"}"#,
    );
    assert!(r.unwrap_err().to_string().contains("non-empty"));
}
