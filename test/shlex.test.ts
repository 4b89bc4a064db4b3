import { ShlexError, shlexSplit } from '../local/shlex';

/**
 * Expected values follow github.com/google/shlex (shlex.go state machine; its shlex_test.go
 * table is the first row), which the SSM agent uses to split ECS Exec commands.
 */
describe('shlexSplit', () => {
  it('splits the test string of shlex_test.go like Go does', () => {
    const testString =
      'one two "three four" "five \\"six\\"" seven#eight # nine # ten\n eleven \'twelve\\\' thirteen=13 fourteen/14';
    expect(shlexSplit(testString)).toEqual([
      'one',
      'two',
      'three four',
      'five "six"',
      'seven#eight',
      'eleven',
      'twelve\\',
      'thirteen=13',
      'fourteen/14',
    ]);
  });

  it.each<{ name: string; input: string; expected: string[] }>([
    // Whitespace: only space, tab, CR and LF separate words.
    { name: 'an empty string', input: '', expected: [] },
    { name: 'only whitespace', input: ' \t\r\n  ', expected: [] },
    { name: 'runs of whitespace', input: '  a \t\r\n b  ', expected: ['a', 'b'] },
    { name: 'a vertical tab and form feed (not separators)', input: 'a\vb c\fd', expected: ['a\vb', 'c\fd'] },
    { name: 'a no-break space (not a separator)', input: 'a\u00a0b', expected: ['a\u00a0b'] },
    // Single quotes: everything literal, backslashes included.
    { name: 'single quotes', input: "'a b' c", expected: ['a b', 'c'] },
    { name: 'a backslash in single quotes', input: "'a\\b\\'", expected: ['a\\b\\'] },
    { name: 'double quotes in single quotes', input: `'say "hi"'`, expected: ['say "hi"'] },
    { name: 'an empty single-quoted word', input: "a '' b", expected: ['a', '', 'b'] },
    { name: 'an escaped single quote between quoted runs', input: "'it'\\''s'", expected: ["it's"] },
    // Double quotes: a backslash escapes any character (unlike POSIX sh).
    { name: 'double quotes', input: '"a b" c', expected: ['a b', 'c'] },
    { name: 'an escaped double quote', input: '"a\\"b"', expected: ['a"b'] },
    { name: 'an escaped backslash', input: '"a\\\\b"', expected: ['a\\b'] },
    { name: 'a backslash before an ordinary character', input: '"a\\b\\n"', expected: ['abn'] },
    { name: 'a backslash before $', input: '"\\$HOME"', expected: ['$HOME'] },
    { name: 'an escaped newline in double quotes', input: '"a\\\nb"', expected: ['a\nb'] },
    { name: 'single quotes in double quotes', input: `"it's"`, expected: ["it's"] },
    { name: 'an empty double-quoted word', input: '""', expected: [''] },
    { name: 'a newline in double quotes', input: '"multi\nline"', expected: ['multi\nline'] },
    // Backslash outside quotes: the next character is literal, a newline included.
    { name: 'an escaped space', input: 'a\\ b c', expected: ['a b', 'c'] },
    { name: 'an escaped quote', input: "it\\'s", expected: ["it's"] },
    { name: 'an escaped backslash outside quotes', input: 'a\\\\b', expected: ['a\\b'] },
    {
      name: 'a backslash-newline (a literal newline, not a continuation)',
      input: 'a\\\nb',
      expected: ['a\nb'],
    },
    { name: 'a word that is one escaped character', input: '\\x', expected: ['x'] },
    // Comments: `#` only where a word starts; it runs to the next LF.
    { name: 'a comment after a word', input: 'a # b c', expected: ['a'] },
    { name: 'a comment at the start', input: '#comment\nx', expected: ['x'] },
    { name: 'a comment up to LF', input: 'a #b\nc #d\ne', expected: ['a', 'c', 'e'] },
    { name: 'a comment that CR does not end', input: 'a #b\rc\nd', expected: ['a', 'd'] },
    { name: 'a comment directly after a separator tab', input: 'a\t#b', expected: ['a'] },
    { name: '# inside a word', input: 'a#b c#', expected: ['a#b', 'c#'] },
    { name: '# after a closing quote', input: '"a"#b', expected: ['a#b'] },
    { name: 'a quoted #', input: `'#a' "#b"`, expected: ['#a', '#b'] },
    { name: 'an escaped #', input: '\\#a', expected: ['#a'] },
    { name: 'a comment with quotes in it (no error)', input: 'a # it\'s "open', expected: ['a'] },
    // Concatenation and no expansion.
    { name: 'adjacent quoted and unquoted runs', input: `a"b c"d'e f'g\\ h`, expected: ['ab cde fg h'] },
    {
      name: 'shell syntax (no expansion, no operators)',
      input: 'echo $HOME; ls | wc -l && true > f *',
      expected: ['echo', '$HOME;', 'ls', '|', 'wc', '-l', '&&', 'true', '>', 'f', '*'],
    },
    // Unicode: split by rune.
    { name: 'non-ASCII words', input: '日本語 "絵 文字" 🎉', expected: ['日本語', '絵 文字', '🎉'] },
    { name: 'an escaped non-BMP character', input: '\\😀x', expected: ['😀x'] },
    { name: 'a lone surrogate (kept as it is)', input: 'a\ud800b', expected: ['a\ud800b'] },
    { name: 'a NUL character (an ordinary rune)', input: 'a\0b', expected: ['a\0b'] },
  ])('splits $name', ({ input, expected }) => {
    expect(shlexSplit(input)).toEqual(expected);
  });

  it.each([
    { name: 'an unclosed double quote', input: '"abc', message: 'EOF found when expecting closing quote' },
    { name: 'an unclosed single quote', input: "a 'bc", message: 'EOF found when expecting closing quote' },
    { name: 'a trailing backslash', input: 'abc\\', message: 'EOF found after escape character' },
    { name: 'a lone backslash', input: '\\', message: 'EOF found after escape character' },
    {
      name: 'a trailing backslash in double quotes',
      input: '"abc\\',
      message: 'EOF found after escape character',
    },
    { name: 'an escaped closing quote', input: '"a\\"', message: 'EOF found when expecting closing quote' },
    {
      name: 'an unclosed quote after a word',
      input: 'ok "',
      message: 'EOF found when expecting closing quote',
    },
  ])('throws on $name with Go’s message', ({ input, message }) => {
    let caught: unknown;
    try {
      shlexSplit(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ShlexError);
    expect(caught).toMatchObject({ name: 'ShlexError', message });
  });
});
