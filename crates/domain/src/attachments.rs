//! Attachments (附件): files — for now photos — attached to a record (an office, its rooms,
//! equipment and posted rules, an inspection, a case). A photo is accepted by what its bytes
//! are, not by what the upload claims: the declared type must agree with the content, so a
//! renamed executable or HTML page cannot be served back as a "photo".

use serde::Serialize;

use crate::{FieldErrors, Scope};

/// The default largest attachment, in bytes (the web server's setting overrides it).
pub const DEFAULT_ATTACHMENT_LIMIT: usize = 5 * 1024 * 1024;

crate::coded_enum! {
    /// The kind of record an attachment belongs to.
    pub enum AttachedTo {
        Office = ("office", "办公室整体"),
        Room = ("room", "用房"),
        Equipment = ("equipment", "设备"),
        PostedRule = ("posted_rule", "制度"),
        Inspection = ("inspection", "检查验收"),
        Case = ("case", "救助案件"),
    }
}

impl From<crate::standards::OfficeItem> for AttachedTo {
    fn from(i: crate::standards::OfficeItem) -> Self {
        use crate::standards::OfficeItem as I;
        match i {
            I::Room => AttachedTo::Room,
            I::Equipment => AttachedTo::Equipment,
            I::PostedRule => AttachedTo::PostedRule,
        }
    }
}

/// An attachment's metadata (without the bytes).
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub entity_type: AttachedTo,
    pub entity_id: String,
    /// The division of the record (its township, or a case's village).
    pub scope_code: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_by: String,
    pub created_at: String,
}

/// An upload on its way in, as received.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// An upload that passed [`check_photo`], with its type as sniffed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Photo<'a> {
    pub content_type: &'static str,
    pub data: &'a [u8],
}

/// The image types we accept, by their leading bytes.
fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks an upload is a photo within `max_bytes`; returns its content type as sniffed.
pub fn check_photo(a: &NewAttachment, max_bytes: usize) -> Result<Photo<'_>, FieldErrors> {
    if a.data.is_empty() {
        return Err(FieldErrors::one("file", "请选择要上传的照片"));
    }
    if a.data.len() > max_bytes {
        return Err(FieldErrors::one(
            "file",
            format!(
                "照片过大（{:.1} MB），单个文件不能超过 {:.1} MB，请压缩后重新上传",
                a.data.len() as f64 / 1_048_576.0,
                max_bytes as f64 / 1_048_576.0
            ),
        ));
    }
    let sniffed = sniff_image(&a.data).ok_or_else(|| {
        FieldErrors::one(
            "file",
            "只能上传照片（JPEG、PNG、GIF 或 WebP 格式），该文件不是图片",
        )
    })?;
    let declared = a.content_type.split(';').next().unwrap_or("").trim();
    let declared = if declared == "image/jpg" {
        "image/jpeg"
    } else {
        declared
    };
    if !declared.is_empty() && declared != "application/octet-stream" && declared != sniffed {
        return Err(FieldErrors::one(
            "file",
            "文件类型与内容不符，只能上传照片（JPEG、PNG、GIF 或 WebP 格式）",
        ));
    }
    Ok(Photo {
        content_type: sniffed,
        data: &a.data,
    })
}

/// The file name to keep: its last path component, without control characters or markup,
/// at most 120 characters ("照片" when nothing is left).
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "照片".into()
    } else {
        cleaned
    }
}

/// Attachments are visible inside the scope, and a village user sees their own township's
/// (as they see its office page).
pub fn attachment_visible(scope: &Scope, scope_code: &str) -> bool {
    scope.contains_str(scope_code) || (scope_code.len() == 9 && scope.sees_str(scope_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ct: &str, data: &[u8]) -> NewAttachment {
        NewAttachment {
            filename: "x.png".into(),
            content_type: ct.into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn only_images_within_the_limit() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        assert_eq!(
            check_photo(&a("image/png", png), 100).unwrap().content_type,
            "image/png"
        );
        assert_eq!(
            check_photo(&a("application/octet-stream", png), 100)
                .unwrap()
                .content_type,
            "image/png"
        );
        assert!(check_photo(&a("image/png", png), 5).is_err());
        assert!(check_photo(&a("text/html", b"<html>"), 100).is_err());
        assert!(check_photo(&a("image/jpeg", png), 100).is_err());
        assert!(check_photo(&a("image/png", b""), 100).is_err());
        assert_eq!(clean_filename("C:\\a\\b\\照片1.jpg"), "照片1.jpg");
        assert_eq!(clean_filename(""), "照片");
    }

    #[test]
    fn the_default_limit_is_five_megabytes() {
        assert_eq!(DEFAULT_ATTACHMENT_LIMIT, 5_242_880);
    }

    #[test]
    fn each_image_type_is_known_by_its_leading_bytes() {
        for (bytes, ty) in [
            (&b"\xFF\xD8\xFF\xE0rest"[..], "image/jpeg"),
            (b"GIF87a....", "image/gif"),
            (b"GIF89a....", "image/gif"),
            (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
            (b"RIFF\x10\0\0\0WEBP", "image/webp"),
        ] {
            assert_eq!(sniff_image(bytes), Some(ty), "{bytes:?}");
            // "image/jpg" is what some phones declare for a JPEG.
            let declared = if ty == "image/jpeg" { "image/jpg" } else { ty };
            assert_eq!(
                check_photo(&a(declared, bytes), 100).unwrap().content_type,
                ty
            );
        }
        for bytes in [
            &b"RIFF\x10\0\0\0WEB"[..],
            b"RIFF\x10\0\0\0WAVEfmt ",
            b"RIFX\x10\0\0\0WEBPVP8 ",
            b"GIF88a....",
            b"\xFF\xD8",
        ] {
            assert_eq!(sniff_image(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn a_photo_of_exactly_the_limit_is_taken_and_one_byte_more_is_refused_in_megabytes() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(1_048_576, 0);
        assert!(check_photo(&a("image/png", &png), 1_048_576).is_ok());
        png.push(0);
        assert_eq!(
            check_photo(&a("image/png", &png), 1_048_576)
                .unwrap_err()
                .get("file"),
            Some("照片过大（1.0 MB），单个文件不能超过 1.0 MB，请压缩后重新上传")
        );
    }

    #[test]
    fn a_file_name_loses_control_characters_and_markup_and_keeps_120_characters() {
        assert_eq!(clean_filename("a<b>\"c\u{7}\n.jpg"), "abc.jpg");
        assert_eq!(clean_filename(&"照".repeat(130)).chars().count(), 120);
        assert_eq!(clean_filename("dir/ <>"), "照片");
        assert_eq!(clean_filename("dir/<>"), "照片");
    }

    #[test]
    fn a_village_sees_its_townships_attachments_but_not_its_countys_or_a_neighbours() {
        let scope = |c| Scope::of(crate::DivisionCode::parse_native(c).unwrap());
        let township = scope("511802001");
        assert!(attachment_visible(&township, "511802001"));
        assert!(attachment_visible(&township, "511802001001"));
        assert!(!attachment_visible(&township, "511802002"));
        assert!(!attachment_visible(&township, "511802"));
        let village = scope("511802001001");
        assert!(attachment_visible(&village, "511802001001"));
        assert!(attachment_visible(&village, "511802001"));
        assert!(!attachment_visible(&village, "511802"));
        assert!(!attachment_visible(&village, "511802001002"));
        assert!(!attachment_visible(&village, "511802002"));
    }
}
