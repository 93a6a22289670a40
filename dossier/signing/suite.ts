/**
 * The signature suites a deployment can choose (SIGNATURE_SUITE). Each names a signature algorithm
 * and the digest that page hashes and the Merkle tree use. The default is the internationally
 * verifiable one; `sm2-sm3` is the national commercial cryptography suite (GB/T 32918, GB/T 32905).
 */
export const SIGNATURE_SUITES = ['ed25519-sha256', 'sm2-sm3'] as const;
export type SignatureSuite = (typeof SIGNATURE_SUITES)[number];
export const DEFAULT_SUITE: SignatureSuite = 'ed25519-sha256';

/** The JWS `alg` of each suite (CONTRACT.md: `SM2` is a private-use name). */
export const SUITE_ALG = { 'ed25519-sha256': 'EdDSA', 'sm2-sm3': 'SM2' } as const satisfies Record<SignatureSuite, string>;

export const isSignatureSuite = (s: unknown): s is SignatureSuite => (SIGNATURE_SUITES as readonly unknown[]).includes(s);
