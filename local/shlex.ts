/**
 * A port of github.com/google/shlex `Split`, the splitter the SSM agent uses in container mode
 * (ECS Exec) to turn the ExecuteCommand `command` string into argv before it execs argv[0] without
 * a shell (`amazon-ssm-agent agent/session/shell/shell_unix.go`, vendored shlex.go). The rules are
 * not POSIX sh's; they are reproduced here exactly, quirks included:
 *
 * - Words are separated by runs of space, tab, CR and LF (nothing else is whitespace).
 * - `'…'` keeps everything literally, backslashes too; there is no way to escape `'` inside.
 * - `"…"` drops a backslash and keeps whatever character follows it, *any* character (POSIX keeps
 *   the backslash unless it precedes `$`, `` ` ``, `"`, `\` or a newline). `$`, `` ` `` are literal.
 * - Outside quotes a backslash makes the next character literal; a backslash-newline is a literal
 *   newline, not a line continuation.
 * - `#` starts a comment only where a word would start; the comment runs to the next LF (a CR does
 *   not end it). Inside a word (`a#b`) or after a quote it is an ordinary character.
 * - Quotes and escapes join with adjacent text into one word; `''` and `""` give an empty word.
 * - An unclosed quote or a trailing backslash is an error (Go returns one; we throw).
 * - No expansion of any kind: `$HOME`, `*`, `~`, `;`, `|`, `&&` are plain characters.
 *
 * Go reads the string rune by rune. A JS string has no invalid UTF-8, but it can hold lone
 * surrogates; those are classified like any other ordinary character and kept as they are (what
 * reaches the agent for them is up to the JSON encoder, not the splitter).
 */

/** Thrown where Go's `shlex.Split` returns an error. The message is Go's. */
export class ShlexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShlexError';
  }
}

/** Go's messages, kept verbatim so logs read the same as the agent's. */
const ERROR_EOF_AFTER_ESCAPE = 'EOF found after escape character';
const ERROR_EOF_IN_QUOTE = 'EOF found when expecting closing quote';

/** Character classes of the default classifier (shlex.go `newDefaultClassifier`). */
const CharClass = {
  Ordinary: 0,
  Space: 1,
  EscapingQuote: 2,
  NonEscapingQuote: 3,
  Escape: 4,
  Comment: 5,
} as const;
type CharClass = (typeof CharClass)[keyof typeof CharClass];

const CLASS_OF: ReadonlyMap<string, CharClass> = new Map<string, CharClass>([
  [' ', CharClass.Space],
  ['\t', CharClass.Space],
  ['\r', CharClass.Space],
  ['\n', CharClass.Space],
  ['"', CharClass.EscapingQuote],
  ["'", CharClass.NonEscapingQuote],
  ['\\', CharClass.Escape],
  ['#', CharClass.Comment],
]);

/** Lexer states (shlex.go `lexerState`). */
const State = {
  /** Between tokens: no character of the next token seen yet. */
  Start: 0,
  InWord: 1,
  /** After a backslash outside quotes. */
  Escaping: 2,
  /** After a backslash inside double quotes. */
  EscapingQuoted: 3,
  /** Inside `"…"`. */
  QuotingEscaping: 4,
  /** Inside `'…'`. */
  Quoting: 5,
  /** Inside a comment, until the next LF. */
  Comment: 6,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Splits `command` into words exactly as Go's `shlex.Split` does.
 * @throws ShlexError on an unclosed quote or a trailing backslash.
 */
export function shlexSplit(command: string): string[] {
  const words: string[] = [];
  let state: State = State.Start;
  // Characters of the word being built, joined once at its end.
  let word: string[] = [];

  const endWord = (): void => {
    words.push(word.join(''));
    word = [];
    state = State.Start;
  };

  // for…of walks code points, as Go's ReadRune walks runes.
  for (const char of command) {
    const charClass = CLASS_OF.get(char) ?? CharClass.Ordinary;
    switch (state) {
      case State.Start:
        switch (charClass) {
          case CharClass.Space:
            break;
          case CharClass.EscapingQuote:
            state = State.QuotingEscaping;
            break;
          case CharClass.NonEscapingQuote:
            state = State.Quoting;
            break;
          case CharClass.Escape:
            state = State.Escaping;
            break;
          case CharClass.Comment:
            state = State.Comment;
            break;
          default:
            word.push(char);
            state = State.InWord;
        }
        break;
      case State.InWord:
        switch (charClass) {
          case CharClass.Space:
            endWord();
            break;
          case CharClass.EscapingQuote:
            state = State.QuotingEscaping;
            break;
          case CharClass.NonEscapingQuote:
            state = State.Quoting;
            break;
          case CharClass.Escape:
            state = State.Escaping;
            break;
          default:
            // `#` included: it only opens a comment at the start of a word.
            word.push(char);
        }
        break;
      case State.Escaping:
        word.push(char);
        state = State.InWord;
        break;
      case State.EscapingQuoted:
        word.push(char);
        state = State.QuotingEscaping;
        break;
      case State.QuotingEscaping:
        if (charClass === CharClass.EscapingQuote) {
          state = State.InWord;
        } else if (charClass === CharClass.Escape) {
          state = State.EscapingQuoted;
        } else {
          word.push(char);
        }
        break;
      case State.Quoting:
        if (charClass === CharClass.NonEscapingQuote) {
          state = State.InWord;
        } else {
          word.push(char);
        }
        break;
      case State.Comment:
        // Only LF ends a comment; Go's lexer drops the comment token, so its text is not kept.
        if (char === '\n') {
          state = State.Start;
        }
        break;
    }
  }

  switch (state) {
    case State.InWord:
      endWord();
      break;
    case State.Escaping:
    case State.EscapingQuoted:
      throw new ShlexError(ERROR_EOF_AFTER_ESCAPE);
    case State.QuotingEscaping:
    case State.Quoting:
      throw new ShlexError(ERROR_EOF_IN_QUOTE);
    default:
      // Start or Comment: nothing pending.
      break;
  }
  return words;
}
