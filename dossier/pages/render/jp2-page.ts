/**
 * A JPEG 2000 page (stored byte-identical, and no image library here decodes it) presented to
 * the PDF renderer as what PDF already knows: a one-page PDF drawing it as a JPXDecode image,
 * built in memory, never stored. The page is sized as a 300 dpi scan, so the renderer draws the
 * image at its own pixels.
 */
import { PDFDocument, PDFName } from 'pdf-lib';
import { DossierError } from '../../errors.js';
import { headerSize } from '../image-header.js';

const ASSUMED_DPI = 300;

export async function jp2AsPdf(bytes: Uint8Array): Promise<Uint8Array> {
  const size = headerSize('jp2', Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (!size || size.width < 1 || size.height < 1) throw new DossierError('corrupt_image', 'the JPEG 2000 page has no readable size');
  const doc = await PDFDocument.create({ updateMetadata: false });
  const w = (size.width * 72) / ASSUMED_DPI, h = (size.height * 72) / ASSUMED_DPI;
  const image = doc.context.register(doc.context.stream(bytes, {
    Type: 'XObject', Subtype: 'Image', Width: size.width, Height: size.height, Filter: 'JPXDecode',
  }));
  const page = doc.addPage([w, h]);
  page.node.setXObject(PDFName.of('Im0'), image);
  const draw = doc.context.register(doc.context.stream(`q ${w.toFixed(4)} 0 0 ${h.toFixed(4)} 0 0 cm /Im0 Do Q`));
  page.node.set(PDFName.of('Contents'), draw);
  return doc.save({ useObjectStreams: false });
}
