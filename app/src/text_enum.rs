//! `text_enum!`: an enum whose variants are stored in the database (and sent in forms) as text.

/// Declares an enum whose variants each name their text (`Draft = "brouillon"`), with `ALL`,
/// `as_str`, `parse`, and on the server `TryFrom<String>`, so that a row's column decodes
/// straight into it (`#[sqlx(try_from = "String")]`); an unknown text is a decoding error.
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            pub const ALL: [$name; [$($text),*].len()] = [$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            pub fn parse(value: &str) -> Option<$name> {
                match value {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        #[cfg(feature = "ssr")]
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                $name::parse(&text).ok_or_else(|| format!("{text:?} is not a {}", stringify!($name)))
            }
        }
    };
}
