//! The macros that define the vocabularies: a closed, coded enum with a bit set over it, and
//! an open one whose `Other` codes are interned. They expand in `vocab`, whose imports they use.

/// Defines a closed, coded vocabulary enum and a bit set over it.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $set:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The code used in policy documents and FHIR.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            /// Every code, in declaration order (the codes a policy document may use).
            pub const CODES: &'static [&'static str] = &[ $( $code ),+ ];

            /// Looks a code up (also the older spellings some values still accept on input);
            /// `None` for unknown codes.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code $(| $alias)* => Some($name::$variant), )+ _ => None }
            }

            /// The valid codes, for "unknown code" messages: `` `a`, `b`, `c` ``.
            pub fn valid_codes() -> String {
                list_codes(Self::CODES)
            }

            /// The bit of this value in a set.
            const fn bit(self) -> u32 {
                1u32 << (self as u8)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = crate::error::ConsentError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::from_code(s).ok_or_else(|| crate::error::ConsentError::UnknownCode {
                    kind: $kind,
                    code: s.to_owned(),
                    valid: $name::valid_codes(),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = String::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} code `{}`: expected one of {}",
                        $kind,
                        code,
                        $name::valid_codes()
                    ))
                })
            }
        }

        #[doc = concat!("A set of [`", stringify!($name), "`] values, stored as a bit set.")]
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $set(u32);

        impl $set {
            /// The empty set.
            pub const EMPTY: $set = $set(0);

            /// The set of every value.
            pub fn all() -> Self {
                $name::ALL.iter().copied().collect()
            }

            /// Whether the set is empty.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether `value` is in the set.
            pub const fn contains(self, value: $name) -> bool {
                self.0 & value.bit() != 0
            }

            /// Adds `value`.
            pub fn insert(&mut self, value: $name) {
                self.0 |= value.bit();
            }

            /// The set with `value` added.
            #[must_use]
            pub const fn with(self, value: $name) -> Self {
                $set(self.0 | value.bit())
            }

            /// Values in both sets.
            #[must_use]
            pub const fn intersection(self, other: Self) -> Self {
                $set(self.0 & other.0)
            }

            /// Values in either set.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                $set(self.0 | other.0)
            }

            /// Values in `self` but not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                $set(self.0 & !other.0)
            }

            /// Whether every value of `self` is in `other`.
            pub const fn is_subset(self, other: Self) -> bool {
                self.0 & !other.0 == 0
            }

            /// Whether the sets share a value.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// Number of values.
            pub const fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// The values, in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                $name::ALL.iter().copied().filter(move |v| self.contains(*v))
            }

            /// An empty set stands for "any value" in rules and provisions.
            pub const fn matches(self, value: $name) -> bool {
                self.0 == 0 || self.contains(value)
            }
        }

        impl FromIterator<$name> for $set {
            fn from_iter<I: IntoIterator<Item = $name>>(iter: I) -> Self {
                let mut s = $set::EMPTY;
                for v in iter {
                    s.insert(v);
                }
                s
            }
        }

        impl From<$name> for $set {
            fn from(v: $name) -> Self {
                $set(v.bit())
            }
        }

        impl fmt::Debug for $set {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_set().entries(self.iter().map(|v| v.code())).finish()
            }
        }

        impl Serialize for $set {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.iter())
            }
        }

        impl<'de> Deserialize<'de> for $set {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let values = Vec::<$name>::deserialize(d)?;
                Ok(values.into_iter().collect())
            }
        }
    };
}

/// Defines an open, coded vocabulary: known values, an `Other` value for any other code
/// (interned, see [`OpenCode`]) and a 64-bit set over both.
macro_rules! open_vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $set:ident, $kind:literal, $table:ident, $shape:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        static $table: OpenCodes = OpenCodes::new();

        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// Any other code, kept and matched by its text.
            Other(OpenCode),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// Every known code, in declaration order.
            pub const CODES: &'static [&'static str] = &[ $( $code ),+ ];

            /// The code used in policy documents and FHIR.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ $name::Other(c) => c.code() }
            }

            /// Looks a known code up; `None` for any other code (see [`Self::open`]).
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some($name::$variant), )+ _ => None }
            }

            /// The known value of `code`, or an open one for any other FHIR code. `None` when
            /// `code` is not a code (empty, control characters, longer than 128 bytes) or the
            /// process's table of open codes is full.
            pub fn open(code: &str) -> Option<Self> {
                if let Some(known) = Self::from_code(code) {
                    return Some(known);
                }
                if !is_open_code(code) {
                    return None;
                }
                $table.intern(Self::ALL.len(), code).map($name::Other)
            }

            /// As [`Self::open`], but only for open codes of the shape a policy document may
            /// use, so that typos are still reported.
            pub fn from_policy_code(code: &str) -> Option<Self> {
                match Self::from_code(code) {
                    Some(known) => Some(known),
                    None if $shape(code) => Self::open(code),
                    None => None,
                }
            }

            /// Whether this is one of the known values.
            pub const fn is_known(self) -> bool {
                !matches!(self, $name::Other(_))
            }

            /// The slot of this value in a set.
            const fn slot(self) -> u8 {
                #[allow(dead_code, reason = "only the discriminants are used")]
                #[repr(u8)]
                enum Known { $( $variant ),+ }
                match self { $( $name::$variant => Known::$variant as u8, )+ $name::Other(c) => c.slot }
            }

            /// The value in `slot`, when there is one.
            fn from_slot(slot: u8) -> Option<Self> {
                match Self::ALL.get(usize::from(slot)) {
                    Some(known) => Some(*known),
                    None => $table.get(Self::ALL.len(), slot).map($name::Other),
                }
            }

            /// The bit of this value in a set.
            const fn bit(self) -> u64 {
                1u64 << self.slot()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = crate::error::ConsentError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::open(s).ok_or_else(|| crate::error::ConsentError::UnknownCode {
                    kind: $kind,
                    code: s.to_owned(),
                    valid: format!(
                        "{} or any FHIR code (no control characters, at most {MAX_OPEN_CODE_BYTES} bytes)",
                        list_codes(Self::CODES)
                    ),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = String::deserialize(d)?;
                $name::open(&code).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a ", $kind, " code, or too many open codes"))
                })
            }
        }

        #[doc = concat!("A set of [`", stringify!($name), "`] values, known and open, stored as a 64-bit set.")]
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $set(u64);

        impl $set {
            /// The empty set.
            pub const EMPTY: $set = $set(0);

            /// The set of every known value.
            pub fn all() -> Self {
                $name::ALL.iter().copied().collect()
            }

            /// Whether the set is empty.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether `value` is in the set.
            pub const fn contains(self, value: $name) -> bool {
                self.0 & value.bit() != 0
            }

            /// Adds `value`.
            pub fn insert(&mut self, value: $name) {
                self.0 |= value.bit();
            }

            /// The set with `value` added.
            #[must_use]
            pub const fn with(self, value: $name) -> Self {
                $set(self.0 | value.bit())
            }

            /// Values in both sets.
            #[must_use]
            pub const fn intersection(self, other: Self) -> Self {
                $set(self.0 & other.0)
            }

            /// Values in either set.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                $set(self.0 | other.0)
            }

            /// Values in `self` but not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                $set(self.0 & !other.0)
            }

            /// Whether every value of `self` is in `other`.
            pub const fn is_subset(self, other: Self) -> bool {
                self.0 & !other.0 == 0
            }

            /// Whether the sets share a value.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// Number of values.
            pub const fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// The values: known ones in declaration order, then open ones in the order the
            /// process first saw them.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                self.slots().filter_map($name::from_slot)
            }

            /// The slots of the values, ascending (no table lookup).
            pub(crate) fn slots(self) -> impl Iterator<Item = u8> {
                let mut rest = self.0;
                std::iter::from_fn(move || {
                    if rest == 0 {
                        return None;
                    }
                    let slot = rest.trailing_zeros();
                    rest &= rest - 1;
                    u8::try_from(slot).ok()
                })
            }

            /// How many values of the set are in slots below `slot`: a dense index for
            /// per-value tables.
            #[allow(dead_code, reason = "used for data classes, not labels")]
            pub(crate) const fn rank(self, slot: u8) -> usize {
                let below = (1u64 << (slot & 63)) - 1;
                (self.0 & below).count_ones() as usize
            }

            /// Adds the value in `slot`.
            #[allow(dead_code, reason = "used for data classes, not labels")]
            pub(crate) fn insert_slot(&mut self, slot: u8) {
                self.0 |= 1u64 << (slot & 63);
            }

            /// An empty set stands for "any value" in rules and provisions.
            pub const fn matches(self, value: $name) -> bool {
                self.0 == 0 || self.contains(value)
            }
        }

        impl FromIterator<$name> for $set {
            fn from_iter<I: IntoIterator<Item = $name>>(iter: I) -> Self {
                let mut s = $set::EMPTY;
                for v in iter {
                    s.insert(v);
                }
                s
            }
        }

        impl From<$name> for $set {
            fn from(v: $name) -> Self {
                $set(v.bit())
            }
        }

        impl fmt::Debug for $set {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_set().entries(self.iter().map(|v| v.code())).finish()
            }
        }

        impl Serialize for $set {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.iter())
            }
        }

        impl<'de> Deserialize<'de> for $set {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let values = Vec::<$name>::deserialize(d)?;
                Ok(values.into_iter().collect())
            }
        }
    };
}
