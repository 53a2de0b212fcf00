package org.postern.smtp.plugin.dkim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.smtp.api.DkimResult;
import org.postern.smtp.api.DkimResults;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

/** Signing from qpsmtpd's key layout (with Ed25519 beside RSA, symlinks and parent domains), then verifying what was signed. */
class DkimTest {
    private static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: sue@example.net\r\nSubject: dinner\r\n\r\nHi.\r\n";
    @TempDir
    static Path keys;
    private static final TestResolver RESOLVER = new TestResolver();

    @BeforeAll
    static void keyFolder() throws Exception {
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair ed25519 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path domain = Files.createDirectories(keys.resolve("example.org"));
        Files.writeString(domain.resolve("private"), pem(rsa.getPrivate().getEncoded()));
        Files.writeString(domain.resolve("selector"), "may2013\n");
        Files.writeString(domain.resolve("ed25519.private"), pem(ed25519.getPrivate().getEncoded()));
        Files.writeString(domain.resolve("ed25519.selector"), "ed2026\n");
        Files.createSymbolicLink(keys.resolve("client.example"), domain);
        Files.createDirectories(keys.resolve("broken.example"));
        Files.writeString(keys.resolve("broken.example/private"), "not a key");
        Files.writeString(keys.resolve("broken.example/selector"), "x\n");
        RESOLVER.withTxt("may2013._domainkey.example.org", KeyRecord.publish(rsa.getPublic()));
        RESOLVER.withTxt("ed2026._domainkey.example.org", KeyRecord.publish(ed25519.getPublic()));
    }

    private static String pem(byte[] pkcs8) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(pkcs8) + "\n-----END PRIVATE KEY-----\n";
    }

    private static Dkim plugin(Map<String, Object> config) {
        return new Dkim(RESOLVER, TestConfig.of(Dkim.Config.class, config), keys, Clock.systemUTC());
    }

    /** The message as signed for an authenticated client sending as {@code sender}. */
    private static String signed(String sender) {
        TestContext ctx = new TestContext();
        ctx.session().authenticated("joe");
        ctx.transaction().sender("<" + sender + ">").message(MESSAGE);
        assertEquals(ReturnCode.DECLINED, plugin(Map.of()).onQueuePre(ctx).code());
        StringBuilder wire = new StringBuilder();
        for (HeaderField field : ctx.transaction().header().orElseThrow().fields()) {
            wire.append(field.name()).append(':').append(field.value()).append("\r\n");
        }
        return wire + "\r\nHi.\r\n";
    }

    private static TestContext received(String message) {
        TestContext ctx = new TestContext();
        ctx.transaction().sender("<joe@example.org>").message(message);
        return ctx;
    }

    @Test
    void aRelayClientsMessageIsSignedTwiceAndVerifies() {
        String message = signed("joe@example.org");
        assertTrue(message.startsWith("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=ed2026;"), message);
        assertTrue(message.contains("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=may2013;"), message);
        TestContext ctx = received(message);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(Map.of()).onDataPost(ctx)).code());
        DkimResults results = ctx.transaction().notes().get(SharedNotes.DKIM_RESULTS).orElseThrow();
        assertEquals(List.of("pass", "pass"), results.signatures().stream().map(DkimResult::result).toList());
        assertEquals(List.of("example.org"), results.passingDomains());
        String authResults = ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow();
        assertTrue(authResults.matches("dkim=pass header\\.d=example\\.org header\\.s=ed2026 header\\.b=\\S{8}; "
                + "dkim=pass header\\.d=example\\.org header\\.s=may2013 header\\.b=\\S{8}"), authResults);
        assertEquals(1, ctx.session().notes().get(SharedNotes.KARMA).orElseThrow());
    }

    @Test
    void aSymlinkedDomainAndASubdomainSignWithTheTargetsKey() {
        assertTrue(signed("a@client.example").contains("d=example.org; s=may2013;"));
        assertTrue(signed("a@host.example.org").contains("d=example.org; s=may2013;"));
    }

    @Test
    void aDomainWithoutKeyOrWithABrokenKeyIsNotSigned() {
        assertTrue(signed("a@other.example").startsWith("From:"));
        assertTrue(signed("a@broken.example").startsWith("From:"));
    }

    @Test
    void aTamperedMessageIsRefusedAsQpsmtpdDoes() {
        String tampered = signed("joe@example.org").replace("Hi.", "Ho.");
        HookResult result = HookResults.settled(plugin(Map.of()).onDataPost(received(tampered)));
        assertEquals(ReturnCode.DENY, result.code());
        assertEquals(List.of("signature invalid: fail (body has been altered)"), result.message());
        assertEquals(ReturnCode.DENYSOFT, HookResults.settled(plugin(Map.of("reject_type", "temp")).onDataPost(received(tampered))).code());
        TestContext tolerated = received(tampered);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(Map.of("reject", "0")).onDataPost(tolerated)).code());
        assertTrue(tolerated.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow()
                .startsWith("dkim=fail (body has been altered) header.d=example.org header.s=ed2026"));
    }

    @Test
    void aKeyDnsCannotAnswerForDefersTheMessageAsQpsmtpdDoes() {
        String message = signed("joe@example.org").replace("s=ed2026;", "s=down;");
        TestResolver down = new TestResolver().failing("down._domainkey.example.org");
        Dkim plugin = new Dkim(down, TestConfig.of(Dkim.Config.class, Map.of("reject", "0")), keys, Clock.systemUTC());
        HookResult result = HookResults.settled(plugin.onDataPost(received(message)));
        assertEquals(ReturnCode.DENYSOFT, result.code());
        assertEquals(List.of("Please try again later - temperror (public key: DNS query failed for down._domainkey.example.org)"),
                result.message());
    }

    @Test
    void aMessageWithoutSignatureIsNoneAndPasses() {
        TestContext ctx = received(MESSAGE);
        assertEquals(ReturnCode.DECLINED, HookResults.settled(plugin(Map.of()).onDataPost(ctx)).code());
        assertEquals("dkim=none", ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow());
        assertEquals(List.of(), ctx.transaction().notes().get(SharedNotes.DKIM_RESULTS).orElseThrow().signatures());
    }
}
