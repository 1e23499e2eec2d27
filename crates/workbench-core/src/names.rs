//! Closed sets of names (operators, channels, outcomes, reason codes, ...): one macro gives
//! each enum its snake_case names, `as_str`, `parse`, `Display`, and a `Deserialize` whose
//! error lists the valid names (and so gets a "did you mean").

/// `names! { Type => { Variant = "name", ... }, ... }`
macro_rules! names {
    ($($t:ty => { $($v:ident = $s:literal),* }),* $(,)?) => {$(
        impl $t {
            pub const NAMES: &'static [&'static str] = &[$($s),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        let names: Vec<String> =
                            <$t>::NAMES.iter().map(|n| format!("`{n}`")).collect();
                        write!(f, "one of {}", names.join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$t, E> {
                        <$t>::parse(s).ok_or_else(|| E::unknown_variant(s, <$t>::NAMES))
                    }
                }
                d.deserialize_str(V)
            }
        }
    )*};
}
