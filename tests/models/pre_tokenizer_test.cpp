// The hand-written regex matchers and the Unicode tables behind them. Expected pieces are what the
// real regexes give (Python's `regex` module, which supports \p{..}, (?i:..) and (?!..)); the
// matcher was also compared with it on 60,000 random strings while it was written.
#include "models/detail/pre_tokenizer.h"

#include "models/unicode.h"
#include "tests/models/models_test_util.h"

using repro::bpe::SplitPattern;
using Pieces = std::vector<std::string>;

namespace {

Pieces pieces(const std::string& text, SplitPattern p) {
  Pieces out;
  for (auto [b, e] : repro::bpe::split_pieces(text, p)) out.push_back(text.substr(b, e - b));
  return out;
}

}  // namespace

TEST_CASE("pre-tokenizer patterns split like the regexes they stand for", "[models][bpe]") {
  const auto G = SplitPattern::kGpt2, L = SplitPattern::kLlama3, Q = SplitPattern::kQwen2;
  std::string s = "Hello, world!! 12345 x";
  CHECK(pieces(s, G) == Pieces{"Hello", ",", " world", "!!", " 12345", " x"});
  CHECK(pieces(s, L) == Pieces{"Hello", ",", " world", "!!", " ", "123", "45", " x"});
  CHECK(pieces(s, Q) == Pieces{"Hello", ",", " world", "!!", " ", "1", "2", "3", "4", "5", " x"});

  s = "He'LL 'VE \xC5\xBF 's";  // ſ (U+017F) folds to 's' under (?i)
  CHECK(pieces(s, G) == Pieces{"He", "'", "LL", " '", "VE", " \xC5\xBF", " '", "s"});
  CHECK(pieces(s, L) == Pieces{"He", "'LL", " '", "VE", " \xC5\xBF", " '", "s"});

  s = "  a\n\n  b\t\tc   ";
  CHECK(pieces(s, G) == Pieces{" ", " a", "\n\n ", " b", "\t", "\t", "c", "   "});
  CHECK(pieces(s, L) == Pieces{" ", " a", "\n\n", " ", " b", "\t", "\tc", "   "});

  s = "(x)...\n\nend.\r\n";
  CHECK(pieces(s, G) == Pieces{"(", "x", ")...", "\n", "\n", "end", ".", "\r\n"});
  CHECK(pieces(s, L) == Pieces{"(x", ")...\n\n", "end", ".\r\n"});

  s = "na\xC3\xAFve \xCE\xA9\xCE\xBC\xCE\xAD\xCE\xB3\xCE\xB1 \xC2\xBD \xD9\xA3\xD9\xA4 \xE6\x97\xA5\xE6\x9C\xAC";
  // naïve Ωμέγα ½ ٣٤ 日本: letters and numbers beyond ASCII
  CHECK(pieces(s, G) == Pieces{"na\xC3\xAFve", " \xCE\xA9\xCE\xBC\xCE\xAD\xCE\xB3\xCE\xB1", " \xC2\xBD",
                               " \xD9\xA3\xD9\xA4", " \xE6\x97\xA5\xE6\x9C\xAC"});
  CHECK(pieces(s, Q) == Pieces{"na\xC3\xAFve", " \xCE\xA9\xCE\xBC\xCE\xAD\xCE\xB3\xCE\xB1", " ", "\xC2\xBD", " ",
                               "\xD9\xA3", "\xD9\xA4", " \xE6\x97\xA5\xE6\x9C\xAC"});

  s = "\xC2\xA0nbsp\xE3\x80\x80ideo";  // NO-BREAK SPACE and IDEOGRAPHIC SPACE are \s
  CHECK(pieces(s, G) == Pieces{"\xC2\xA0", "nbsp", "\xE3\x80\x80", "ideo"});
  CHECK(pieces(s, L) == Pieces{"\xC2\xA0nbsp", "\xE3\x80\x80ideo"});

  // Ill-formed UTF-8 bytes are "other" characters and stay inside the pieces.
  s = "ab\xFF\xFE cd";
  CHECK(pieces(s, L) == Pieces{"ab", "\xFF\xFE", " cd"});
  CHECK(pieces("", L).empty());
}

TEST_CASE("the supported regex texts are recognized exactly", "[models][bpe]") {
  for (auto p : {SplitPattern::kGpt2, SplitPattern::kLlama3, SplitPattern::kQwen2})
    CHECK(repro::bpe::recognize_pattern(repro::bpe::pattern_text(p)) == p);
  CHECK(!repro::bpe::recognize_pattern(R"(\p{L}+|\p{N}+)"));
}

TEST_CASE("Unicode categories, whitespace, NFC and lossy UTF-8", "[models][unicode]") {
  using namespace repro::unicode;
  CHECK(is_letter(U'a'));
  CHECK(is_letter(0x00E9));   // é
  CHECK(is_letter(0x65E5));   // 日
  CHECK(is_letter(0x02B0));   // ʰ modifier letter (Lm)
  CHECK(!is_letter(0x0301));  // combining acute (Mn)
  CHECK(!is_letter(U'1'));
  CHECK(is_number(0x00BD));  // ½ (No)
  CHECK(is_number(0x2167));  // Ⅷ (Nl)
  CHECK(is_number(0x0663));  // ٣ (Nd)
  CHECK(!is_number(U'x'));
  CHECK(is_whitespace(0x3000));
  CHECK(is_whitespace(0x0085));
  CHECK(!is_whitespace(0x200B));                                // zero width space is not White_Space
  CHECK(nfc("e\xCC\x81") == "\xC3\xA9");                        // e + acute -> é
  CHECK(nfc("a\xCC\xA3\xCC\x87") == nfc("a\xCC\x87\xCC\xA3"));  // canonical reordering
  CHECK(nfc("\xE2\x84\xAB") == "\xC3\x85");                     // ANGSTROM SIGN -> Å (singleton)
  CHECK(nfc("plain ascii") == "plain ascii");
  CHECK(utf8_lossy("ok\xFF!") == "ok\xEF\xBF\xBD!");
  CHECK(utf8_lossy("\xE6\x97") == "\xEF\xBF\xBD");  // a truncated sequence is one replacement
}

// HF's tokenizers classifies with Unicode 16.0 (its Oniguruma regexes) and normalizes with Unicode
// 9.0 data; the golden test (tokenizer_golden_test.cpp) checks the consequences on real tokenizers.
TEST_CASE("regression: Unicode tables follow HF's versions, not Python's 14.0", "[models][unicode]") {
  using namespace repro::unicode;
  CHECK(std::string(repro::unicode::detail::kUnicodeVersion) == "16.0.0");
  CHECK(std::string(repro::unicode::detail::kNormalizationUnicodeVersion) == "9.0.0");
  CHECK(is_letter(0x11F04));   // KAWI LETTER A (15.0)
  CHECK(is_letter(0x31350));   // CJK Extension H (15.0)
  CHECK(is_letter(0x2EBF0));   // CJK Extension I (15.1)
  CHECK(is_letter(0x10D50));   // GARAY CAPITAL LETTER A (16.0)
  CHECK(is_number(0x1D2C0));   // KAKTOVIK NUMERAL ZERO (15.0, No)
  CHECK(is_number(0x1CCF0));   // OUTLINED DIGIT ZERO (16.0)
  CHECK(!is_letter(0x10940));  // SIDETIC LETTER (17.0): not a letter for HF yet
  CHECK(!is_letter(0x323B0));  // CJK Extension J (17.0)
  // U+1DF6 (10.0) has combining class 232 today, but 0 in 9.0 data: no reordering.
  CHECK(nfc("x\xE1\xB7\xB6\xCC\xB4") == "x\xE1\xB7\xB6\xCC\xB4");
  CHECK(nfc("x\xCC\x81\xCC\xB4") == "x\xCC\xB4\xCC\x81");  // U+0301 (230) after U+0334 (1)
  // Kirat Rai AI = E + E is a canonical composition of 16.0, not of 9.0.
  CHECK(nfc("\xF0\x96\xB5\xA7\xF0\x96\xB5\xA7") == "\xF0\x96\xB5\xA7\xF0\x96\xB5\xA7");
  CHECK(is_word_char(U'_'));
  CHECK(is_word_char(0x00E9));   // é
  CHECK(is_word_char(0x0301));   // combining acute (M)
  CHECK(is_word_char(0x0663));   // Arabic-Indic three (Nd)
  CHECK(is_word_char(0x24B6));   // CIRCLED LATIN CAPITAL A (So, but Alphabetic)
  CHECK(is_word_char(0x200D));   // ZERO WIDTH JOINER (Join_Control)
  CHECK(!is_word_char(0x00BD));  // ½ (No)
  CHECK(!is_word_char(U'-'));
  CHECK(!is_word_char(0x3000));
}
