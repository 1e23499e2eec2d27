//! A small table of names (event types, rules, templates) that rows refer to by id, so that a
//! million rows hold a handful of strings.

use std::collections::HashMap;
use std::sync::Arc;

/// `u32::MAX` is "no name".
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub struct Names {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Names {
    pub fn id(&mut self, name: &Arc<str>) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(NONE - 1);
        self.names.push(Arc::clone(name));
        self.ids.insert(Arc::clone(name), id);
        id
    }

    pub fn opt_id(&mut self, name: Option<&Arc<str>>) -> u32 {
        name.map_or(NONE, |n| self.id(n))
    }

    pub fn get(&self, id: u32) -> Option<Arc<str>> {
        self.names.get(id as usize).cloned()
    }

    /// `Some(None)` for "no name", `None` for an unknown id.
    pub fn opt_get(&self, id: u32) -> Option<Option<Arc<str>>> {
        if id == NONE {
            return Some(None);
        }
        self.get(id).map(Some)
    }

    /// The name of `id` (`None` for "no name" or an unknown id).
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(AsRef::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(AsRef::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gets_one_id_and_none_is_its_own() {
        let mut n = Names::default();
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        assert_eq!((n.id(&a), n.id(&b), n.id(&"a".into())), (0, 1, 0));
        assert_eq!(n.opt_id(None), NONE);
        assert_eq!(n.opt_get(NONE), Some(None));
        assert_eq!(n.opt_get(1), Some(Some(b)));
        assert_eq!(n.get(2), None);
        assert_eq!(n.name(0), Some("a"));
        assert_eq!(n.iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
