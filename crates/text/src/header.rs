//! The header block of a document: title, 姓名/单位 fields, a date line, a byline.

use regex::Regex;
use std::sync::LazyLock;

static HEADER_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:姓\s*名|作\s*者|单\s*位|工作单位|职\s*务|级\s*别|联系点|蹲点村|地\s*点|日\s*期|时\s*间|标\s*题|走访人|记录人|调研人|谈话人|主持人|参加人员|参会人员)\s*[：:\t]")
        .expect("static regex")
});

/// Byte offset where the body starts: the title and header lines (姓名：…, 单位：…, a date
/// line) describe the submission, they are not its substance.
pub fn body_start(text: &str) -> usize {
    let mut offset = 0;
    let mut seen_title = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let n = t.chars().count();
        let unpunctuated = !t.contains(['。', '，', '！', '？', '；']);
        let header = t.is_empty()
            || (n <= 60 && HEADER_FIELD.is_match(t))
            || (n <= 30 && crate::find_date(t).is_some() && !t.contains('。'))
            || (!seen_title && n <= 40 && unpunctuated)
            // A byline under the title: 清水镇人民政府　郑涛 / （2023年9月22日）.
            || (seen_title
                && n <= 24
                && unpunctuated
                && !t.contains(['：', ':'])
                && !t.starts_with(['一', '二', '三', '四', '【', '1']));
        if !header {
            break;
        }
        seen_title |= !t.is_empty();
        offset += line.len();
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_not_substance() {
        let cases = [
            (
                "蹲点手记（第2天）\n姓名：赵磊　单位：县委组织部\n2023年9月19日 星期二 晴\n\n今天继续走访。",
                "今天继续走访。",
            ),
            (
                "走访笔录（第1天）\n走访人\t张伟\t日期\t2023年9月18日\n【第1户】户主：王桂兰",
                "【第1户】户主：王桂兰",
            ),
            ("群众说机耕路坏了。", "群众说机耕路坏了。"),
            ("刘书记：为啥我们L3县汽车站上个厕所还要收费", ""),
            (
                "蹲点调研报告\n清水镇人民政府　郑涛\n（2023年9月22日）\n\n根据安排，本人到河口村蹲点。",
                "根据安排，本人到河口村蹲点。",
            ),
        ];
        for (text, body) in cases {
            assert_eq!(&text[body_start(text)..], body, "{text}");
        }
    }
}
