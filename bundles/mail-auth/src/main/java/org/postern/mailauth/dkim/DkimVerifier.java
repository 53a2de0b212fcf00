package org.postern.mailauth.dkim;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.postern.smtp.api.HeaderField;

/**
 * Verifies the DKIM signatures of a message (RFC 6376 6.1). The key records are asked for at once, through an
 * asynchronous TXT lookup, one per distinct key name; meanwhile the body is read once, in chunks, by the caller's
 * thread, feeding one {@link BodyHasher} per distinct canonicalization and length; the verdicts come when every
 * answer is in (the completion only checks the header signatures, microseconds of CPU each).
 */
public final class DkimVerifier {
    public static final String FIELD_NAME = "DKIM-Signature";
    private static final int CHUNK = 64 * 1024;

    private final Function<String, CompletionStage<List<String>>> txtLookup;
    private final Clock clock;
    private final Duration clockSkew;
    private final int maxSignatures;

    /**
     * @param txtLookup the TXT records of a name (each one's strings joined); an empty list for a name without any,
     *        an exceptional completion when DNS could not answer (a {@code temperror})
     * @param clockSkew how far past its {@code x=} a signature is still taken
     * @param maxSignatures how many signatures, from the top, are verified; the others are ignored
     */
    public DkimVerifier(Function<String, CompletionStage<List<String>>> txtLookup, Clock clock, Duration clockSkew, int maxSignatures) {
        this.txtLookup = txtLookup;
        this.clock = clock;
        this.clockSkew = clockSkew;
        this.maxSignatures = maxSignatures;
    }

    /** One signature field of the message, parsed, or the reason it could not be. */
    private record Candidate(int position, DkimSignature signature, Verdict broken) {
    }

    private record BodyForm(Canonicalization canonicalization, String digestName, long length) {
    }

    /**
     * The verdicts on the message's signatures, in the order of its header (empty for a message without any).
     *
     * @param header the message's fields, in order, with their raw values
     * @param body the body, read here to its end (not closed)
     * @throws IOException when the body cannot be read
     */
    public CompletionStage<List<Verdict>> verify(List<HeaderField> header, InputStream body) throws IOException {
        return verify(header, candidates(header), body);
    }

    /**
     * The verdicts on signatures the caller found and parsed, such as ARC-Message-Signatures (RFC 8617), in the
     * order of the map's iteration.
     *
     * @param signatures each signature by the position of its field in {@code header}
     * @param body the body, read here to its end (not closed)
     * @throws IOException when the body cannot be read
     * @since 1.1
     */
    public CompletionStage<List<Verdict>> verify(List<HeaderField> header, Map<Integer, DkimSignature> signatures, InputStream body)
            throws IOException {
        List<Candidate> candidates = new ArrayList<>();
        signatures.forEach((position, signature) -> candidates.add(new Candidate(position, signature, expiry(signature))));
        return verify(header, candidates, body);
    }

    private CompletionStage<List<Verdict>> verify(List<HeaderField> header, List<Candidate> candidates, InputStream body)
            throws IOException {
        Map<String, CompletableFuture<List<String>>> keys = new LinkedHashMap<>();
        for (Candidate candidate : candidates) {
            if (candidate.signature() != null) {
                keys.computeIfAbsent(candidate.signature().keyName(), this::lookup);
            }
        }
        Map<BodyForm, byte[]> bodyHashes = hashBody(candidates, body);
        return CompletableFuture.allOf(keys.values().toArray(CompletableFuture[]::new))
                .handle((ignored, error) -> candidates.stream().map(candidate -> candidate.broken() != null ? candidate.broken()
                        : verdict(candidate, header, keys.get(candidate.signature().keyName()), bodyHashes)).toList());
    }

    private CompletableFuture<List<String>> lookup(String name) {
        try {
            return txtLookup.apply(name).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private List<Candidate> candidates(List<HeaderField> header) {
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < header.size() && candidates.size() < maxSignatures; i++) {
            HeaderField field = header.get(i);
            if (!field.name().equalsIgnoreCase(FIELD_NAME)) {
                continue;
            }
            try {
                DkimSignature signature = DkimSignature.parse(FIELD_NAME, field.value());
                candidates.add(new Candidate(i, signature, expiry(signature)));
            } catch (DkimException e) {
                candidates.add(new Candidate(i, null, brokenVerdict(field.value(), e)));
            }
        }
        return candidates;
    }

    private Verdict expiry(DkimSignature signature) {
        if (signature.expiration() >= 0 && clock.instant().minus(clockSkew).getEpochSecond() > signature.expiration()) {
            return verdict(signature, Verdict.Result.PERMERROR, "signature is expired", false);
        }
        return null;
    }

    /** A verdict on a signature that did not parse, naming its domain and selector when those tags could be read. */
    private static Verdict brokenVerdict(String rawValue, DkimException e) {
        String domain = "";
        String selector = "";
        String prefix = "";
        try {
            TagList tags = TagList.parse(rawValue);
            domain = tags.get("d").orElse("").toLowerCase(Locale.ROOT);
            selector = tags.get("s").orElse("");
            prefix = DkimSignature.signaturePrefix(tags);
        } catch (DkimException unreadable) {
            // nothing more to say about it than e
        }
        return new Verdict(e.result(), e.getMessage(), domain, selector, prefix, false);
    }

    private static Map<BodyForm, byte[]> hashBody(List<Candidate> candidates, InputStream body) throws IOException {
        Map<BodyForm, BodyHasher> hashers = new HashMap<>();
        for (Candidate candidate : candidates) {
            DkimSignature signature = candidate.signature();
            if (candidate.broken() == null) {
                BodyForm form = new BodyForm(signature.bodyCanonicalization(), signature.algorithm().digestName(), signature.bodyLength());
                hashers.computeIfAbsent(form, key -> new BodyHasher(key.canonicalization(), key.digestName(), key.length()));
            }
        }
        Map<BodyForm, byte[]> hashes = new HashMap<>();
        if (hashers.isEmpty()) {
            return hashes;
        }
        byte[] chunk = new byte[CHUNK];
        for (int read = body.read(chunk); read >= 0; read = body.read(chunk)) {
            for (BodyHasher hasher : hashers.values()) {
                hasher.update(chunk, 0, read);
            }
        }
        hashers.forEach((form, hasher) -> {
            byte[] hash = hasher.digest();
            // a body shorter than l= says cannot match the signer's hash: no hash stands for that
            if (form.length() < 0 || hasher.canonicalLength() >= form.length()) {
                hashes.put(form, hash);
            }
        });
        return hashes;
    }

    private Verdict verdict(Candidate candidate, List<HeaderField> header, CompletableFuture<List<String>> lookup,
            Map<BodyForm, byte[]> bodyHashes) {
        DkimSignature signature = candidate.signature();
        KeyRecord key;
        try {
            key = keyRecord(signature, lookup);
        } catch (DkimException e) {
            return verdict(signature, e.result(), e.getMessage(), false);
        }
        byte[] bodyHash = bodyHashes.get(new BodyForm(signature.bodyCanonicalization(), signature.algorithm().digestName(),
                signature.bodyLength()));
        if (bodyHash == null) {
            return verdict(signature, Verdict.Result.PERMERROR, "body is shorter than l= says", key.testing());
        }
        if (!MessageDigest.isEqual(bodyHash, signature.bodyHash())) {
            return verdict(signature, Verdict.Result.FAIL, "body has been altered", key.testing());
        }
        try {
            if (!signature.algorithm().verify(key.key(), signature.headerData(header, candidate.position()), signature.signature())) {
                return verdict(signature, Verdict.Result.FAIL, "", key.testing());
            }
        } catch (GeneralSecurityException e) {
            return verdict(signature, Verdict.Result.FAIL, "bad signature data", key.testing());
        }
        return verdict(signature, Verdict.Result.PASS, "", key.testing());
    }

    /** The first usable key record, or why there is none. */
    private static KeyRecord keyRecord(DkimSignature signature, CompletableFuture<List<String>> lookup) throws DkimException {
        List<String> records;
        try {
            records = lookup.join();
        } catch (CompletionException e) {
            throw new DkimException(Verdict.Result.TEMPERROR, "public key: DNS query failed for " + signature.keyName());
        }
        KeyRecord key = KeyRecord.firstUsable(records, signature.algorithm());
        String identityDomain = signature.identity().substring(signature.identity().lastIndexOf('@') + 1);
        if (key.strict() && !identityDomain.equalsIgnoreCase(signature.domain())) {
            throw DkimException.invalid("public key: t=s forbids an identity in a subdomain");
        }
        return key;
    }

    private static Verdict verdict(DkimSignature signature, Verdict.Result result, String detail, boolean testing) {
        return new Verdict(result, detail, signature.domain(), signature.selector(), signature.signaturePrefix(), testing);
    }
}
