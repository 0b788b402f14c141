//! What the LLM-mode stages share: the cached client and its calls (from
//! `pixmo-llm-stage`, which every LLM pipeline uses), the prompts, and pulling code out of a
//! reply.

pub mod prompts;

pub use pixmo_llm_stage::{
    LlmHandle, block_on, check_sampling, clip, default_max_tokens, default_temperature, fill,
    refusal_phrase, sampling,
};
pub use prompts::{Language, Preset, Prompts};

/// The code in a reply: the first fenced block (preferring one tagged `tag`), else the
/// whole reply, trimmed.
#[must_use]
pub fn extract_code<'a>(reply: &'a str, tag: &str) -> &'a str {
    let blocks: Vec<(&str, &str)> = reply
        .split("```")
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|pair| pair.get(1).copied())
        .map(|block| {
            let (info, body) = block.split_once('\n').unwrap_or(("", block));
            (info.trim(), body)
        })
        .collect();
    blocks
        .iter()
        .find(|(info, _)| info.eq_ignore_ascii_case(tag))
        .or_else(|| blocks.first())
        .map_or(reply, |(_, body)| body)
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_taken_from_the_tagged_block() {
        let reply = "Here:\n```json\n{}\n```\nand\n```typst\n#set page(width: 10cm)\nHi\n```\n";
        assert_eq!(extract_code(reply, "typst"), "#set page(width: 10cm)\nHi");
        assert_eq!(extract_code(reply, "svg"), "{}");
        assert_eq!(extract_code("  <svg/>  ", "svg"), "<svg/>");
    }
}
