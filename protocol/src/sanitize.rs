//! Text cleaning of DESIGN §9: control characters out, so that a note can
//! never drive a kitchen terminal. The relay cleans on input; every program
//! cleans again before it draws.

/// Whether a character is removed from every text field.
fn is_stripped(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{001F}'
        | '\u{007F}'..='\u{009F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}')
}

/// One-line text (names, codes, addresses): every control character removed.
pub fn clean_line(s: &str) -> String {
    s.chars().filter(|c| !is_stripped(*c)).collect()
}

/// Multi-line text (notes, instructions, announcements): newline and tab kept.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\n' | '\t') || !is_stripped(*c))
        .collect()
}

/// Whether `s` is unchanged by [`clean_text`]; cheap check before allocating.
pub fn is_clean_text(s: &str) -> bool {
    !s.chars()
        .any(|c| !matches!(c, '\n' | '\t') && is_stripped(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, line: &str, text: &str) {
        assert_eq!(clean_line(input), line, "clean_line({input:?})");
        assert_eq!(clean_text(input), text, "clean_text({input:?})");
    }

    #[test]
    fn strips_controls_keeps_text() {
        check("kimchi", "kimchi", "kimchi");
        check("no \x1b[2Jclear", "no [2Jclear", "no [2Jclear");
        check("a\nb\tc", "abc", "a\nb\tc");
        check("bell\x07\x00", "bell", "bell");
        check("del\x7f c1\u{0085}\u{009b}", "del c1", "del c1");
        check("\u{202e}evil\u{2066}x\u{2069}", "evilx", "evilx");
        check("비빔밥 🍚", "비빔밥 🍚", "비빔밥 🍚");
        check("\r\n", "", "\n");
    }

    #[test]
    fn clean_check_matches_cleaning() {
        for s in ["plain", "a\nb", "x\x1by", "\u{202a}"] {
            assert_eq!(is_clean_text(s), clean_text(s) == s, "{s:?}");
        }
    }
}
