//! What an uploaded file is, decided from its bytes; the name it is stored and served under;
//! and the reading of a multipart upload with its limits.

/// Largest file accepted, in bytes (10 Mo).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most files in one message.
pub const MAX_FILES_PER_MESSAGE: usize = 5;
/// Most bytes one upload may carry in all: beyond, reading stops and the upload is refused.
pub const MAX_UPLOAD_BYTES: usize = MAX_FILES_PER_MESSAGE * MAX_FILE_BYTES + 1024 * 1024;
/// Longest text field of an upload form (a message's text included).
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The kinds of file we accept, recognised by their first bytes whatever their name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
}

impl FileKind {
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(FileKind::Png)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }

    pub fn of_content_type(value: &str) -> Option<FileKind> {
        [FileKind::Pdf, FileKind::Jpeg, FileKind::Png].into_iter().find(|k| k.content_type() == value)
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Png => &["png"],
        }
    }
}

/// The name a file is kept and served under: the last path segment of what was sent, without
/// control or reserved characters, at most 100 characters, and always ending with the extension
/// of what the file really is (`cv.pdf.exe` holding a PDF becomes `cv.pdf.exe.pdf`).
pub fn safe_file_name(sent: &str, kind: FileKind) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last.chars().map(|c| if c.is_control() || "<>:\"|?*;%".contains(c) { '_' } else { c }).collect();
    name = name.trim_matches(|c: char| c == '.' || c.is_whitespace()).to_string();
    let extension_ok = name.rsplit_once('.').map(|(_, ext)| kind.extensions().iter().any(|e| e.eq_ignore_ascii_case(ext))).unwrap_or(false);
    if !extension_ok {
        if name.is_empty() {
            name = "document".into();
        }
        name = format!("{name}.{}", kind.extensions()[0]);
    }
    if name.chars().count() > 100 {
        let (stem, ext) = name.rsplit_once('.').map(|(s, e)| (s.to_string(), e.to_string())).unwrap_or_default();
        let keep = 100 - ext.chars().count() - 1;
        name = format!("{}.{ext}", stem.chars().take(keep).collect::<String>());
    }
    name
}

/// `Content-Disposition` for a download: always an attachment, with an ASCII name for old
/// clients and the exact UTF-8 name (RFC 5987) for the others.
pub fn attachment_disposition(name: &str) -> String {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for byte in name.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(byte) {
            encoded.push(*byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// "2,4 Mo", "830 Ko", "12 octets".
pub fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else if bytes >= 1024 {
        format!("{} Ko", bytes / 1024)
    } else {
        format!("{bytes} octets")
    }
}

/// Server functions whose body is a multipart form (uploads).
pub const MULTIPART_ENDPOINTS: [&str; 2] = ["/api/documents/upload", "/api/messages/send"];

/// Whether a request's `Content-Type` names a multipart form with its boundary: the server
/// function machinery cannot read an upload without it, so such a call is refused first (400).
#[cfg(feature = "ssr")]
pub fn is_multipart_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| multer::parse_boundary(ct).is_ok())
}

/// A file received in full and checked.
#[cfg(feature = "ssr")]
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    pub kind: FileKind,
    pub bytes: Vec<u8>,
}

/// Everything a multipart form carried: its text fields, and its files under their field name.
#[cfg(feature = "ssr")]
#[derive(Debug, Default)]
pub struct Received {
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<(String, Upload)>,
    /// One French sentence per refused file.
    pub problems: Vec<String>,
}

#[cfg(feature = "ssr")]
impl Received {
    pub fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Reads a whole multipart upload. A file over 10 Mo is refused as soon as its 10 Mo + 1st byte
/// arrives; an upload cut halfway or malformed is `BadRequest`. Nothing is stored here: the
/// caller stores only when everything was received and accepted.
#[cfg(feature = "ssr")]
pub async fn receive(data: leptos::server_fn::codec::MultipartData, max_files: usize) -> Result<Received, crate::error::AppError> {
    use crate::error::AppError;
    // A form with every field left out is an empty body, which the multipart reader refuses:
    // it is read as an empty form, whose missing fields are then named.
    let empty = leptos::prelude::use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.headers.get(http::header::CONTENT_LENGTH).is_some_and(|length| length == "0"));
    if empty {
        return Ok(Received::default());
    }
    let mut multipart = data.into_inner().ok_or(AppError::BadRequest)?;
    let mut received = Received::default();
    let mut file_count = 0usize;
    let mut total = 0usize;
    let too_much = || AppError::invalid("file", "Cet envoi dépasse la taille totale permise (5 fichiers de 10 Mo au plus).");
    // An upload that cannot be read is the caller's mistake (cut halfway, malformed); the cause
    // is logged, never the content.
    let unreadable = |e: multer::Error| {
        tracing::warn!(error = %e, "an upload could not be read");
        AppError::BadRequest
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    total += chunk.len();
                    if total > MAX_UPLOAD_BYTES {
                        return Err(too_much());
                    }
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_CHARS * 4 {
                        return Err(AppError::invalid(&name, "Ce texte est trop long."));
                    }
                }
                let text = String::from_utf8(text).map_err(|_| AppError::BadRequest)?;
                received.fields.insert(name, text);
            }
            Some(sent_name) => {
                let mut bytes = Vec::new();
                let mut too_big = false;
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    total += chunk.len();
                    if total > MAX_UPLOAD_BYTES {
                        return Err(too_much());
                    }
                    if !too_big && bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        too_big = true;
                        bytes = Vec::new();
                    }
                    if !too_big {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                let shown = sent_name.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
                // An empty file input of a plain form sends a part with no name and no byte.
                if shown.is_empty() && bytes.is_empty() && !too_big {
                    continue;
                }
                file_count += 1;
                if file_count > max_files {
                    received.problems.push(format!("Vous pouvez joindre au plus {max_files} fichiers."));
                    continue;
                }
                if too_big {
                    received.problems.push(format!("« {shown} » dépasse la taille maximale de 10 Mo."));
                } else if bytes.is_empty() {
                    received.problems.push(format!("« {shown} » est vide (0 octet) : choisissez le bon fichier."));
                } else {
                    match FileKind::sniff(&bytes) {
                        Some(kind) => received.files.push((name, Upload { file_name: safe_file_name(&shown, kind), kind, bytes })),
                        None => received.problems.push(format!(
                            "« {shown} » n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, pas seulement son nom)."
                        )),
                    }
                }
            }
        }
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_content_not_the_name() {
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(b"MZ\x90\x00 this is an exe"), None);
        assert_eq!(FileKind::sniff(b""), None);
        assert_eq!(FileKind::sniff(b"%PD"), None);
    }

    #[test]
    fn file_names_lose_paths_and_reserved_characters_and_end_with_the_real_extension() {
        assert_eq!(safe_file_name("C:\\Users\\moi\\devis.pdf", FileKind::Pdf), "devis.pdf");
        assert_eq!(safe_file_name("../../etc/passwd", FileKind::Pdf), "passwd.pdf");
        assert_eq!(safe_file_name("cv.pdf.exe", FileKind::Pdf), "cv.pdf.exe.pdf");
        assert_eq!(safe_file_name("photo.PNG", FileKind::Png), "photo.PNG");
        assert_eq!(safe_file_name("photo.jpeg", FileKind::Jpeg), "photo.jpeg");
        assert_eq!(safe_file_name("facture.pdf", FileKind::Png), "facture.pdf.png");
        assert_eq!(safe_file_name("Relevé d'activité — été.pdf", FileKind::Pdf), "Relevé d'activité — été.pdf");
        assert_eq!(safe_file_name("a\"b<c>\n.pdf", FileKind::Pdf), "a_b_c__.pdf");
        assert_eq!(safe_file_name("...", FileKind::Jpeg), "document.jpg");
        let long = safe_file_name(&format!("{}.pdf", "é".repeat(300)), FileKind::Pdf);
        assert_eq!(long.chars().count(), 100);
        assert!(long.ends_with(".pdf"));
    }

    #[test]
    fn downloads_are_attachments_with_an_ascii_and_an_exact_name() {
        assert_eq!(
            attachment_disposition("Relevé été.pdf"),
            "attachment; filename=\"Relev_ _t_.pdf\"; filename*=UTF-8''Relev%C3%A9%20%C3%A9t%C3%A9.pdf"
        );
    }

    #[test]
    fn sizes_read_in_french() {
        assert_eq!(human_size(12), "12 octets");
        assert_eq!(human_size(830 * 1024), "830 Ko");
        assert_eq!(human_size(2_516_582), "2,4 Mo");
    }
}
