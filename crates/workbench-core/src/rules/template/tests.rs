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

#[test]
fn a_template_keeps_its_text_and_compares_by_it() {
    let t = Template::parse("Hi {{ user_id }}").unwrap();
    assert_eq!(t.text(), "Hi {{ user_id }}");
    assert_eq!(format!("{t:?}"), r#"Template("Hi {{ user_id }}")"#);
    assert_eq!(t, Template::parse("Hi {{ user_id }}").unwrap());
    assert_ne!(t, Template::parse("Hi {{ event_type }}").unwrap());
}

#[test]
fn a_default_sees_the_value_liquid_sees() {
    for (path, want) in [
        ("properties.merchant.tags.first", "a"),
        ("properties.merchant.tags.last", "b"),
        ("properties.merchant.tags.size", "2"),
        ("properties.merchant.size", "2"),
        ("properties.merchant.name.size", "4"),
        ("properties.merchant.tags[0]", "a"),
        ("properties.merchant.tags[1]", "b"),
        ("properties.merchant.tags[-1]", "b"),
        ("properties.merchant.tags[-2]", "a"),
        ("properties.merchant['name']", "Acme"),
        ("properties[\"odd key\"]", "spaced"),
    ] {
        // Read through `default` (the rewrite's own lookup) and by Liquid itself: the same.
        assert_eq!(
            render(&format!("{{{{ {path} | default: 'x' }}}}")).unwrap(),
            want,
            "{path} | default"
        );
        assert_eq!(
            render(&format!("{{{{ {path} }}}}")).unwrap(),
            want,
            "{path}"
        );
    }
    for path in [
        "properties.merchant.tags[2]",
        "properties.merchant.tags[-3]",
        "properties.merchant.tags.middle",
        "properties.merchant.name.length",
        "properties.amount.size",
        "properties['a|b']",
    ] {
        assert_eq!(
            render(&format!("{{{{ {path} | default: 'x' }}}}")).unwrap(),
            "x",
            "{path}"
        );
    }
}

#[test]
fn defaults_are_found_before_tags_and_after_raw_blocks() {
    let missing = "{{ user_traits.last_name | default: 'x' }}";
    assert_eq!(
        render(&format!("{missing}{{% if true %}}y{{% endif %}}")).unwrap(),
        "xy"
    );
    for (raw, kept) in [
        (
            "{% raw %}ab{{ x | default: 'y' }}{% endraw %}",
            "ab{{ x | default: 'y' }}",
        ),
        (
            "{% raw %}abcdefghij{% if %}{% endraw %}",
            "abcdefghij{% if %}",
        ),
        ("{%- raw -%}a{%- endraw -%}", "a"),
    ] {
        assert_eq!(
            render(&format!("{raw}{missing}")).unwrap(),
            format!("{kept}x"),
            "{raw}"
        );
    }
}

#[test]
fn quotes_and_whitespace_control_do_not_hide_a_default() {
    for (text, want) in [
        // A `}}` inside a string does not end the tag, before `default` either.
        (
            "{{ user_traits.last_name | append: '}}}' | default: 'x' }}",
            "}}}",
        ),
        (
            "{{ user_traits.last_name | append: \"}}}\" | default: 'x' }}",
            "}}}",
        ),
        ("{{- user_traits.last_name | default: 'x' -}}", "x"),
        ("{{user_traits.last_name|default:'x'}}", "x"),
        ("{{ properties['a|b'] | default: 'x' }}", "x"),
        ("{{ properties[\"a|b\"] | default: 'x' }}", "x"),
        // A literal is not a variable: it keeps its value; `_` and `-` are a name's letters.
        ("{{ 5 | default: 'x' }}", "5"),
        ("{{ _nick | default: 'x' }}", "x"),
        ("{{ properties.no-such | default: 'x' }}", "x"),
    ] {
        assert_eq!(render(text).unwrap(), want, "{text}");
    }
}

#[test]
fn an_empty_tag_in_a_comment_is_passed_over() {
    // Liquid does not read a comment's inside, so `{%%}` parses there; the rewrite steps over it.
    assert_eq!(
        render("{% comment %}{%%}{% endcomment %}{{ user_traits.last_name | default: 'ok' }}")
            .unwrap(),
        "ok"
    );
}

#[test]
fn another_render_error_is_one_line_with_its_contexts() {
    let e = render("{% include 'x' %}").unwrap_err();
    assert_eq!(
        e,
        RenderError::Filter("Partial does not exist, name: x, from: {% include \"x\" %}".into())
    );
}

#[test]
fn one_line_leaves_out_what_is_available_and_the_input() {
    let e = liquid::Error::with_msg("Broken")
        .context("available things", "a, b")
        .context("input", "42")
        .context("name", "x");
    assert_eq!(one_line(&e), "Broken, name: x");
}

#[test]
fn a_parse_error_naming_a_tag_says_which() {
    let e = liquid::Error::with_msg("Unknown block").context("requested tag", "loop");
    assert_eq!(parse_error(&e).to_string(), "unknown block: `loop`");
}
