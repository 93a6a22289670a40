/**
 * libvips can load dozens of formats (SVG, GIF, HEIF, PDF, FITS, Matlab, ImageMagick's hundreds).
 * Pages are only ever JPEG, PNG, TIFF, WebP or JPEG 2000, so every other loader is blocked: a
 * mislabelled file that slips past content detection still never reaches a decoder we do not
 * need. libvips keeps the list per process, so this also covers the page and render threads.
 */
import sharp from 'sharp';

export const PAGE_DECODERS = ['VipsForeignLoadJpeg', 'VipsForeignLoadPng', 'VipsForeignLoadTiff', 'VipsForeignLoadWebp', 'VipsForeignLoadJp2k'] as const;

export function allowOnlyPageDecoders(): void {
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...PAGE_DECODERS] });
}
