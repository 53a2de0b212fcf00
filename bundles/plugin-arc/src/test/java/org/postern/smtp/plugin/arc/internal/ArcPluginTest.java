package org.postern.smtp.plugin.arc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

/** Two hops through the plugin: sealed with the dkim plugin's key layout, verified, sealed again, verified again. */
class ArcPluginTest {
    private static final String MESSAGE = "From: Joe <joe@example.org>\r\nTo: list@lists.example\r\nSubject: dinner\r\n\r\nHi.\r\n";
    private static final TestResolver RESOLVER = new TestResolver();
    @TempDir
    static Path keys;

    @BeforeAll
    static void keyFolder() throws Exception {
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        Path domain = Files.createDirectories(keys.resolve("lists.example"));
        Files.writeString(domain.resolve("private"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(rsa.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        Files.writeString(domain.resolve("selector"), "arc2026\n");
        RESOLVER.withTxt("arc2026._domainkey.lists.example", KeyRecord.publish(rsa.getPublic()));
    }

    private static ArcSealing sealing(Map<String, Object> config) {
        return new ArcSealing(TestConfig.of(ArcConfig.class, config), keys, Clock.systemUTC());
    }

    /** A message as the core hands it to data_post: its own Authentication-Results on top, then what plugins stored. */
    private static TestContext received(String message) {
        TestContext ctx = new TestContext().withConfig("me", "mx.lists.example");
        ctx.transaction().sender("<joe@example.org>").message("Authentication-Results: mx.lists.example; auth=none\r\n" + message);
        return ctx;
    }

    /** Verifies at data_post, completes the Authentication-Results as the core does, then queue_pre. */
    private static String relay(TestContext ctx, ArcSealing sealing) {
        assertEquals(ReturnCode.DECLINED, HookResults.settled(new ArcVerification(RESOLVER, Clock.systemUTC()).onDataPost(ctx)).code());
        String results = "mx.lists.example; auth=none; " + ctx.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow();
        ctx.transaction().header().orElseThrow().set("Authentication-Results", results);
        assertEquals(ReturnCode.DECLINED, sealing.onQueuePre(ctx).code());
        StringBuilder wire = new StringBuilder();
        for (HeaderField field : ctx.transaction().header().orElseThrow().fields()) {
            if (!field.name().equals("Authentication-Results")) {
                wire.append(field.name()).append(':').append(field.value()).append("\r\n");
            }
        }
        return wire + "\r\nHi.\r\n";
    }

    @Test
    void sealAllSealsEveryMessageAndTheNextHopVerifiesAndContinuesTheChain() {
        ArcSealing all = sealing(Map.of("seal", "all", "seal_domain", "lists.example"));
        TestContext first = received(MESSAGE);
        String once = relay(first, all);
        assertEquals("arc=none", first.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow());
        assertTrue(once.startsWith("ARC-Seal: i=1; a=rsa-sha256; t="), once);
        assertTrue(once.contains("cv=none; d=lists.example; s=arc2026;"), once);
        assertTrue(once.contains("ARC-Authentication-Results: i=1; mx.lists.example;\r\n\tauth=none;\r\n\tarc=none\r\n"), once);

        TestContext second = received(once);
        String twice = relay(second, all);
        assertEquals("arc=pass (i=1)", second.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow());
        assertTrue(twice.startsWith("ARC-Seal: i=2;") && twice.contains("cv=pass;"), twice);

        TestContext third = received(twice.replace("Subject: dinner", "Subject: lunch"));
        relay(third, sealing(Map.of()));
        assertEquals("arc=fail (i=2 ARC-Message-Signature i=2: fail)",
                third.transaction().notes().get(SharedNotes.TRANSACTION_AUTHENTICATION_RESULTS).orElseThrow());
    }

    @Test
    void sealRelaySealsOnlyTheMailOfRelayClients() {
        ArcSealing relayOnly = sealing(Map.of("seal", "relay", "seal_domain", "lists.example"));
        assertTrue(relay(received(MESSAGE), relayOnly).startsWith("From:"));
        TestContext client = received(MESSAGE);
        client.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertTrue(relay(client, relayOnly).startsWith("ARC-Seal: i=1;"));
    }

    @Test
    void aSealingKeyThatCannotBeReadSealsNothing() {
        assertTrue(relay(received(MESSAGE), sealing(Map.of("seal", "all", "seal_domain", "other.example"))).startsWith("From:"));
        assertTrue(relay(received(MESSAGE), sealing(Map.of("seal", "all"))).startsWith("From:"));
        assertTrue(relay(received(MESSAGE), sealing(Map.of("seal", "everything", "seal_domain", "lists.example"))).startsWith("From:"));
    }
}
