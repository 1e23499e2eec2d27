use super::*;
use crate::event::{Event, Traits};

fn event() -> Event {
    let props = serde_json::json!({
        "amount": 42,
        "merchant": {"name": "Acme", "tags": ["a", "b"]},
        "none": null,
        "no": false,
        "blank": "",
        "odd key": "spaced",
    });
    let traits: Traits = serde_json::from_value(serde_json::json!({
        "email": "a@b.c",
        "country": "NO",
        "marketing_opt_in": true,
        "first_name": "Ada",
        "nick": null,
    }))
    .unwrap();
    Event {
        user_id: "u1".into(),
        event_type: "signup".into(),
        event_timestamp: "2025-10-10T08:30:00Z".parse().unwrap(),
        properties: props.as_object().unwrap().clone(),
        user_traits: Some(traits),
        idempotency_key: None,
    }
}

fn render(text: &str) -> Result<String, RenderError> {
    Template::parse(text).unwrap().render(&event())
}

#[test]
fn every_root_renders() {
    assert_eq!(
        render("{{ user_id }} {{ event_type }} {{ event_timestamp }}").unwrap(),
        "u1 signup 2025-10-10T08:30:00Z"
    );
    assert_eq!(
        render("{{ properties.amount }} {{ user_traits.email }} {{ user_traits.first_name }} {{ user_traits.marketing_opt_in }}").unwrap(),
        "42 a@b.c Ada true"
    );
}

#[test]
fn nested_properties_render() {
    assert_eq!(
        render("{{ properties.merchant.name }}/{{ properties.merchant.tags[1] }}/{{ properties['odd key'] }}/{{ properties.merchant.tags | join: ',' }}").unwrap(),
        "Acme/b/spaced/a,b"
    );
    assert_eq!(render("{{ properties.merchant.tags.size }}").unwrap(), "2");
}

#[test]
fn plain_text_is_itself() {
    assert_eq!(render("Welcome aboard!").unwrap(), "Welcome aboard!");
}

#[test]
fn default_covers_missing_null_false_and_empty() {
    for path in [
        "user_traits.last_name",
        "user_traits.nick",
        "properties.none",
        "properties.no",
        "properties.blank",
        "properties.merchant.city",
        "properties.merchant.tags[5]",
        "nothing",
        "nothing.at.all",
    ] {
        assert_eq!(
            render(&format!("Hi {{{{ {path} | default: 'there' }}}}!")).unwrap(),
            "Hi there!",
            "{path}"
        );
    }
    assert_eq!(
        render("{{- user_traits.first_name | default: 'there' -}}").unwrap(),
        "Ada"
    );
    assert_eq!(
        render("{{ user_traits.last_name | upcase | default: \"X|Y}}\" }}").unwrap(),
        "X|Y}}"
    );
    // A present value goes through the filters before `default`, as in Liquid.
    assert_eq!(
        render("{{ user_traits.first_name | upcase | default: 'x' }}").unwrap(),
        "ADA"
    );
}

#[test]
fn a_default_elsewhere_does_not_excuse_a_bare_use() {
    let e = render("{{ user_traits.last_name | default: 'x' }} {{ user_traits.last_name }}")
        .unwrap_err();
    assert_eq!(
        e,
        RenderError::UnknownVariable("user_traits.last_name".into())
    );
}

#[test]
fn raw_blocks_are_left_alone() {
    assert_eq!(
        render("{% raw %}{{ x | default: 'y' }}{% endraw %}").unwrap(),
        "{{ x | default: 'y' }}"
    );
}

#[test]
fn an_unknown_variable_is_named() {
    let e = render("Hi {{ user_traits.last_name }}").unwrap_err();
    assert_eq!(e.to_string(), "unknown variable user_traits.last_name");
    let e = render("{{ properties.merchant.city }}").unwrap_err();
    assert_eq!(e.to_string(), "unknown variable properties.merchant.city");
    let e = render("{{ first_name }}").unwrap_err();
    assert_eq!(e.to_string(), "unknown variable first_name");
    let mut ev = event();
    ev.user_traits = None;
    let e = Template::parse("{{ user_traits.email }}")
        .unwrap()
        .render(&ev)
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown variable user_traits.email");
}

#[test]
fn a_filter_error_is_a_render_error() {
    let e = render("{{ properties.amount | divided_by: 0 }}").unwrap_err();
    assert!(matches!(e, RenderError::Filter(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "filter `divided_by : 0` fails: Can't divide by zero"
    );
}

#[test]
fn syntax_errors_say_where_in_the_text() {
    let e = Template::parse("Hi\n{{ user_id").unwrap_err();
    assert_eq!(e.at, Some((2, 4)));
    assert_eq!(
        e.to_string(),
        "line 2, column 4 of the text: expected Literal"
    );
    let e = Template::parse("{{ user_id | nosuch }}").unwrap_err();
    assert_eq!(e.to_string(), "unknown filter `nosuch`");
}

#[test]
fn templates_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Template>();
    check::<crate::rules::RuleSet>();
}

#[test]
fn a_text_with_tags_and_no_output_is_still_liquid() {
    assert_eq!(
        render("{% if user_traits.marketing_opt_in %}opted in{% endif %}").unwrap(),
        "opted in"
    );
    assert_eq!(
        render("{% raw %}{{ kept }}{% endraw %}").unwrap(),
        "{{ kept }}"
    );
    assert_eq!(render("no markup at all").unwrap(), "no markup at all");
}
