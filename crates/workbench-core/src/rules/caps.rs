//! Frequency caps (SPEC §7.1, §7.3 row 4): at most `max` deliveries of covered categories
//! and channels per user in a calendar window.

use std::sync::Arc;

use serde::Deserialize;

use super::name::RuleName;
use super::policy::{CalendarBasis, Category};
use super::{ActionType, Channel, Rule};
use crate::time::zone::Calendar;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub name: Arc<str>,
    pub max: u32,
    pub window: Calendar,
    pub calendar: CalendarBasis,
    /// `None`: every category.
    pub categories: Option<Vec<Category>>,
    /// Default: every channel except `internal`.
    pub channels: Vec<Channel>,
}

impl Cap {
    /// Whether deliveries of `category` on `channel` count toward this cap.
    pub fn covers(&self, category: Category, channel: Channel) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|cs| cs.contains(&category))
            && self.channels.contains(&channel)
    }

    /// Whether a send of `rule` is subject to this cap (alerts never are).
    pub fn covers_rule(&self, rule: &Rule) -> bool {
        match (rule.action.kind, rule.category) {
            (ActionType::Send, Some(c)) => self.covers(c, rule.action.channel),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum RawWindow {
    #[serde(rename = "calendar_day")]
    Day,
    #[serde(rename = "calendar_week")]
    Week,
    #[serde(rename = "calendar_month")]
    Month,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    name: RuleName,
    max: u64,
    window: RawWindow,
    #[serde(default)]
    calendar: Option<CalendarBasis>,
    #[serde(default)]
    categories: Option<Vec<Category>>,
    #[serde(default)]
    channels: Option<Vec<Channel>>,
}

impl TryFrom<RawCap> for Cap {
    type Error = String;

    fn try_from(raw: RawCap) -> Result<Self, String> {
        let name = raw.name.0;
        let max = match u32::try_from(raw.max) {
            Ok(m) if m >= 1 => m,
            _ => {
                return Err(super::raw::at_key(
                    "max",
                    &format!("cap `{name}`: `max` is at least 1, got {}", raw.max),
                ));
            }
        };
        if raw.categories.as_ref().is_some_and(Vec::is_empty) {
            return Err(super::raw::at_key(
                "categories",
                &format!("cap `{name}`: `categories` is empty; leave it out to cap every category"),
            ));
        }
        if raw.channels.as_ref().is_some_and(Vec::is_empty) {
            return Err(super::raw::at_key(
                "channels",
                &format!("cap `{name}`: `channels` is empty; leave it out to cap every channel"),
            ));
        }
        Ok(Cap {
            name: name.into(),
            max,
            window: match raw.window {
                RawWindow::Day => Calendar::Day,
                RawWindow::Week => Calendar::Week,
                RawWindow::Month => Calendar::Month,
            },
            calendar: raw.calendar.unwrap_or(CalendarBasis::User),
            categories: raw.categories,
            channels: raw
                .channels
                .unwrap_or_else(|| vec![Channel::Email, Channel::Sms, Channel::Push]),
        })
    }
}

impl<'de> Deserialize<'de> for Cap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::raw::via_map::<D, RawCap, Cap>(d, "a frequency cap mapping")
    }
}
