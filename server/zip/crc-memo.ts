/**
 * CRC-32s of blobs the export has read whole, by SHA-256 (blobs are content-addressed, so a CRC
 * never goes stale): a resumed download (HTTP Range) then skips the entries before its offset
 * unread instead of reading them again for the central directory. Bounded, least recently used
 * first out; in the process only (a gateway restarted, or another one, reads what it misses).
 */
export class CrcMemo {
  private readonly crcs = new Map<string, number>();

  /** About 150 bytes an entry: the default holds the pages and texts of a few large dossiers. */
  constructor(private readonly capacity = 200_000) {}

  get(sha256: string): number | undefined {
    const crc = this.crcs.get(sha256);
    if (crc !== undefined) {
      // A Map iterates in insertion order: re-inserting marks it the most recently used.
      this.crcs.delete(sha256);
      this.crcs.set(sha256, crc);
    }
    return crc;
  }

  set(sha256: string, crc: number): void {
    this.crcs.delete(sha256);
    this.crcs.set(sha256, crc);
    if (this.crcs.size > this.capacity) this.crcs.delete(this.crcs.keys().next().value!);
  }
}
