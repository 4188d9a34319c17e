/**
 * Finds a member name that appears twice in one object of a JSON text already known to be valid.
 *
 * Why: JSON.parse keeps the last duplicate, other parsers the first. A token whose header says
 * `"alg":"none","alg":"RS256"` or whose payload names two `Name`s means different things to
 * different readers, so it is refused outright (RFC 7515 section 4 allows either).
 */
export function hasDuplicateMember(text: string): boolean {
  // One entry per open container: the names seen so far in an object, null for an array.
  // Stryker disable next-line ArrayDeclaration: an extra bottom entry is never read, the text opens its own container first
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let end = i + 1;
      // Stryker disable next-line BooleanLiteral: JSON.parse of a name without escapes gives the name as sliced: same names, slower
      let escaped = false;
      while (end < text.length && text.charCodeAt(end) !== 0x22) {
        if (text.charCodeAt(end) === 0x5c /* \ */) {
          escaped = true;
          end += 1;
        }
        end += 1;
      }
      if (expectName) {
        const raw = text.slice(i, end + 1);
        const name = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const names = stack[stack.length - 1]!;
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push(null);
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
      // Stryker disable next-line BooleanLiteral: in valid JSON a closed container is followed by , } ] or the end, never by a name
      expectName = false;
    } else if (ch === 0x2c /* , */) {
      expectName = stack[stack.length - 1] instanceof Set;
    }
  }
  return false;
}
