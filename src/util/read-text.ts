import fs from 'node:fs';
import { UserError } from './errors';

/**
 * Reads a whole input file as text (a model, labels, rules, a feature table): a regular file of
 * at most `maxBytes`. A device or a pipe (/dev/zero, a FIFO) would never end and a huge file would
 * fill memory: both are refused in one line, without reading. File-system errors (ENOENT, EISDIR,
 * EACCES) are thrown as they are, for the caller to phrase.
 */
export function readBoundedText(file: string, what: string, maxBytes = 256 << 20): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`${file}: is a directory`), { code: 'EISDIR', path: file });
    if (!st.isFile()) throw new UserError(`${file}: not a regular file, expected ${what}`);
    if (st.size > maxBytes) {
      throw new UserError(
        `${file}: ${Math.round(st.size / 2 ** 20)} MiB, too large for ${what} (at most ${maxBytes / 2 ** 20} MiB)`,
      );
    }
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
