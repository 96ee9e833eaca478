// SPDX-License-Identifier: MIT
// chat_media: images in the chat as binary values of the JSON form
// (doc/protocol.md, "Binary values"): {"_binary":"<standard base64>"}.
// An image picked or pasted is shrunk (canvas, JPEG) until its base64
// fits the server's --max-body with room for the rest of the message; a
// received one is shown from a Blob of its bytes, and only for the
// raster types below (never SVG, never HTML: nothing in it can run).

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif',
	'image/webp'];
const MAX_SIDE = 1280;		// pixels of the longest side when shrinking
const ROOM_FOR_REST = 1024;	// bytes of the body kept for the rest

// Standard base64 (with padding) of an ArrayBuffer.
export function toBase64(buf) {
	const b = new Uint8Array(buf);
	let s = '';
	for (let i = 0; i < b.length; i += 0x8000)
		s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
	return btoa(s);
}

// The bytes of a standard base64 text, or null when it is not one.
export function fromBase64(s) {
	try {
		const bin = atob(s);
		const out = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			out[i] = bin.charCodeAt(i);
		return out;
	} catch {
		return null;
	}
}

// 1 when v is the JSON form of a binary value.
export const isBinary = (v) => v !== null && typeof v === 'object' &&
	!Array.isArray(v) && typeof v._binary === 'string' &&
	Object.keys(v).length === 1;

function canvasBlob(img, scale, quality) {
	const c = document.createElement('canvas');
	c.width = Math.max(1, Math.round(img.naturalWidth * scale));
	c.height = Math.max(1, Math.round(img.naturalHeight * scale));
	c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
	return new Promise((res) => c.toBlob(res, 'image/jpeg', quality));
}

function loadImage(blob) {
	return new Promise((res, rej) => {
		const url = URL.createObjectURL(blob);
		const img = new Image();
		img.onload = () => {
			URL.revokeObjectURL(url);
			res(img);
		};
		img.onerror = () => {
			URL.revokeObjectURL(url);
			rej(new Error('not an image this browser can read'));
		};
		img.src = url;
	});
}

// {type, b64, width, height} of a picked or pasted image file whose
// base64 fits maxBody (the server's --max-body) with room for the rest of
// the message: as it is when it fits, else shrunk as a JPEG.
export async function encodeImage(file, maxBody) {
	if (!IMAGE_TYPES.includes(file.type))
		throw new Error(`${file.type || 'this file'} is not a PNG, JPEG, ` +
			'GIF or WebP image');
	const budget = Math.max(256, maxBody - ROOM_FOR_REST);
	const img = await loadImage(file);
	if (Math.ceil(file.size / 3) * 4 <= budget)
		return { type: file.type, b64: toBase64(await file.arrayBuffer()),
			width: img.naturalWidth, height: img.naturalHeight };
	let scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth,
		img.naturalHeight));
	for (let i = 0; i < 12; i++, scale *= 0.7) {
		const blob = await canvasBlob(img, scale, i < 4 ? 0.85 : 0.7);
		if (blob && Math.ceil(blob.size / 3) * 4 <= budget)
			return { type: 'image/jpeg',
				b64: toBase64(await blob.arrayBuffer()),
				width: Math.round(img.naturalWidth * scale),
				height: Math.round(img.naturalHeight * scale) };
	}
	throw new Error('the image does not fit the server\'s message limit');
}

// An <img> for the message data {image: {_binary}, type}, or null.
export function imageNode(data) {
	if (!data || typeof data !== 'object' || !isBinary(data.image))
		return null;
	const type = IMAGE_TYPES.includes(data.type) ? data.type : null;
	const bytes = type && fromBase64(data.image._binary);
	if (!bytes)
		return null;
	const url = URL.createObjectURL(new Blob([bytes], { type }));
	const img = document.createElement('img');
	img.className = 'chat-image';
	img.alt = typeof data.name === 'string' ? data.name : 'image';
	img.title = `${type}, ${bytes.length} bytes`;
	img.src = url;
	img.decoding = 'async';
	return img;
}
