package org.postern.mailauth.arc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.mailauth.Programs.dkimpy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.smtp.testkit.TestResolver;

/**
 * Both directions, and chains mixing both, against dkimpy's ARC (Debian's python3-dkim 1.1 with python3-authres),
 * keys given to it through its dnsfunc. Debian bookworm has no OpenARC package, so dkimpy is the one independent
 * implementation here.
 */
class ArcInteropTest {
    private static final TestResolver RESOLVER = new TestResolver();
    @TempDir
    static Path folder;
    private static Hop postern;
    private static Hop dkimpyHop;

    @BeforeAll
    static void keys() throws Exception {
        postern = new Hop("postern.example", RESOLVER);
        dkimpyHop = new Hop("dkimpy.example", RESOLVER);
        Files.writeString(folder.resolve("dkimpy.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(dkimpyHop.keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        Files.writeString(folder.resolve("keys.txt"), "arc._domainkey.postern.example " + KeyRecord.publish(postern.keys.getPublic()) + "\n"
                + "arc._domainkey.dkimpy.example " + KeyRecord.publish(dkimpyHop.keys.getPublic()) + "\n");
    }

    /** dkimpy seals what it received, reading its own Authentication-Results (with our verdict) for cv=. */
    private static String dkimpySeals(String message, String arcResult) throws Exception {
        String sealed = dkimpy("Authentication-Results: dkimpy.example; spf=pass smtp.mailfrom=example.org" + arcResult + "\r\n" + message,
                "arc-seal", "arc", "dkimpy.example", folder.resolve("dkimpy.pem").toString(), "dkimpy.example");
        assertTrue(sealed.startsWith("ARC-Seal: "), sealed);
        return sealed;
    }

    private static String dkimpyVerifies(String message) throws Exception {
        return dkimpy(message, "arc-verify", folder.resolve("keys.txt").toString()).strip();
    }

    @Test
    void posternVerifiesDkimpysSeal() throws Exception {
        String sealed = dkimpySeals(Hop.MESSAGE, "");
        ArcVerdict verdict = Hop.verify(RESOLVER, sealed);
        assertEquals(ArcVerdict.Result.PASS, verdict.result(), verdict.detail() + "\n" + sealed);
        assertEquals(ArcVerdict.Result.FAIL, Hop.verify(RESOLVER, sealed.replace("We lost", "We won")).result());
    }

    @Test
    void dkimpyVerifiesPosternsSeal() throws Exception {
        String sealed = postern.relay(Hop.MESSAGE);
        assertEquals("pass success\nvalid seals: 1", dkimpyVerifies(sealed));
        assertEquals("fail Most recent ARC-Message-Signature did not validate\nvalid seals: 1", dkimpyVerifies(sealed.replace("We lost", "We won")));
    }

    @Test
    void dkimpySealsFirstPosternSecondAndDkimpyVerifies() throws Exception {
        String twice = postern.relay(dkimpySeals(Hop.MESSAGE, ""));
        assertTrue(twice.startsWith("ARC-Seal: i=2;") && twice.contains("cv=pass"), twice);
        assertEquals(ArcVerdict.Result.PASS, Hop.verify(RESOLVER, twice).result());
        assertEquals("pass success\nvalid seals: 2 1", dkimpyVerifies(twice));
    }

    @Test
    void posternSealsFirstDkimpySecondAndPosternVerifies() throws Exception {
        String once = postern.relay(Hop.MESSAGE);
        String twice = dkimpySeals(once, "; " + Hop.verify(RESOLVER, once).authResult());
        assertTrue(twice.startsWith("ARC-Seal: i=2;") && twice.contains("cv=pass"), twice);
        ArcVerdict verdict = Hop.verify(RESOLVER, twice);
        assertEquals(ArcVerdict.Result.PASS, verdict.result(), verdict.detail() + "\n" + twice);
        assertEquals(2, verdict.instance());
        assertEquals("pass success\nvalid seals: 2 1", dkimpyVerifies(twice));
    }
}
