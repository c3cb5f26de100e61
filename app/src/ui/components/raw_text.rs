//! Text shown inside HTML's raw-text elements (`<textarea>`, `<title>`). Leptos writes their
//! children into the server's HTML as they are, unescaped, so a value holding
//! `</textarea><img onerror=…>` would end the element and become live markup. Everything a
//! person typed goes in through here, and reaches the page exactly as text.

use leptos::prelude::*;

/// `text` as it must be written between `<textarea>`/`<title>` tags in the server's HTML:
/// `&` and `<` as character references, which the HTML parser turns back into exactly `text`
/// (these elements decode references but never read tags other than their own end tag).
/// In the browser build text goes into the DOM as text, so it is left as it is.
pub fn as_raw_text(text: &str) -> String {
    if cfg!(feature = "hydrate") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A `<textarea>` holding `text` exactly; give it its attributes with `attr:` (`attr:id`,
/// `attr:name`, `attr:rows`, `attr:readonly`). The server writes the text escaped, so the
/// page works without script; the browser build sets the `value` property instead of
/// hydrating a text child (which an empty textarea does not have).
#[component]
pub fn TextArea(#[prop(into)] text: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        view! { <textarea prop:value=text></textarea> }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        view! { <textarea>{as_raw_text(&text)}</textarea> }
    }
}

#[cfg(test)]
mod tests {
    use super::as_raw_text;

    #[test]
    fn raw_text_cannot_close_its_element() {
        assert_eq!(
            as_raw_text("</textarea><img src=x onerror=alert(1)>"),
            "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        // A literal reference stays literal text once the parser decodes it.
        assert_eq!(
            as_raw_text("&lt;b&gt; \"q\" 'q'"),
            "&amp;lt;b&amp;gt; \"q\" 'q'"
        );
    }
}
