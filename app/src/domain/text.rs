//! Folding names for search: lower case, no accents, words of letters and digits only, so
//! "helene" finds "Hélène" and "le-goff" finds "Le Goff".

/// The base letters of one character, lower case, without its accent (`None`: not a letter or
/// digit, a word separator).
fn base(c: char) -> Option<&'static str> {
    Some(match c {
        '0'..='9' | 'a'..='z' | 'A'..='Z' => ASCII[c.to_ascii_lowercase() as usize - '0' as usize],
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        _ => return None,
    })
}

/// `'0'..='z'` as one-character strings (only digits and lower-case letters are looked up).
const ASCII: [&str; 75] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?", "@", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
    "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "[", "\\", "]", "^", "_", "`", "a", "b", "c", "d", "e", "f", "g", "h", "i",
    "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
];

/// The folded words of `text`: `"Hélène LE-GOFF"` gives `["helene", "le", "goff"]`.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        match base(c) {
            Some(letters) => current.push_str(letters),
            None => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The folded words joined by single spaces.
pub fn fold(text: &str) -> String {
    words(text).join(" ")
}

/// The smallest folded word that sorts after every word starting with `prefix` (digits, then
/// letters): `"abz"` gives `"ac"`. `None` when there is none (`"zzz"`).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '0'..='8' | 'a'..='y' => char::from(last as u8 + 1),
            '9' => 'a',
            _ => continue,
        };
        chars.push(next);
        return Some(chars.into_iter().collect());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_are_folded_away() {
        assert_eq!(fold("Hélène LE-GOFF"), "helene le goff");
        assert_eq!(fold("  Œdipe d'Ærø  Çà "), "oedipe d aero ca");
        assert_eq!(words("Jean-Noël 2e"), vec!["jean", "noel", "2e"]);
        assert_eq!(fold("@#!"), "");
    }

    #[test]
    fn the_prefix_end_is_the_next_word_in_order() {
        assert_eq!(prefix_end("helene").as_deref(), Some("helenf"));
        assert_eq!(prefix_end("abz").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a9").as_deref(), Some("aa"));
        assert_eq!(prefix_end("zz"), None);
    }
}
