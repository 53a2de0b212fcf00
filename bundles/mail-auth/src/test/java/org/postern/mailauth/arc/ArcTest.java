package org.postern.mailauth.arc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.testkit.TestResolver;
import org.postern.smtp.testkit.TestTransaction;

/** Sealing then verifying over one to three hops, tampering with each part of a set, and the chain's structure rules. */
class ArcTest {
    private static final TestResolver RESOLVER = new TestResolver();
    private static Hop lists;
    private static Hop forwarder;
    private static Hop relay;

    @BeforeAll
    static void hops() throws Exception {
        lists = new Hop("lists.example", RESOLVER);
        forwarder = new Hop("forward.example", RESOLVER);
        relay = new Hop("relay.example", RESOLVER);
    }

    private static ArcVerdict verify(String message) throws Exception {
        return Hop.verify(RESOLVER, message);
    }

    private static ArcChain chain(String message) {
        return ArcChain.read(new TestTransaction().message(message).header().orElseThrow().fields());
    }

    @Test
    void aMessageWithoutArcFieldsIsNone() throws Exception {
        ArcVerdict verdict = verify(Hop.MESSAGE);
        assertEquals(ArcVerdict.Result.NONE, verdict.result());
        assertEquals("arc=none", verdict.authResult());
    }

    @Test
    void oneTwoAndThreeHopsPass() throws Exception {
        String once = lists.relay(Hop.MESSAGE);
        assertTrue(once.startsWith("ARC-Seal: i=1; a=rsa-sha256; t="), once);
        assertTrue(once.contains("; cv=none; d=lists.example; s=arc;"), once);
        assertTrue(once.contains("ARC-Authentication-Results: i=1; lists.example;\r\n\tspf=pass smtp.mailfrom=example.org;\r\n\tarc=none"), once);
        ArcVerdict first = verify(once);
        assertEquals(ArcVerdict.Result.PASS, first.result(), first.detail());
        assertEquals("arc=pass (i=1)", first.authResult());
        assertEquals(Optional.of("i=1; lists.example; spf=pass smtp.mailfrom=example.org; arc=none"), first.oldestPassResults());

        String twice = forwarder.relay(once);
        assertTrue(twice.startsWith("ARC-Seal: i=2; a=rsa-sha256; t="), twice);
        assertTrue(twice.contains("; cv=pass; d=forward.example; s=arc;"), twice);
        assertEquals("arc=pass (i=2)", verify(twice).authResult());

        ArcVerdict third = verify(relay.relay(twice));
        assertEquals(ArcVerdict.Result.PASS, third.result(), third.detail());
        assertEquals(3, third.instance());
        assertEquals(1, third.oldestPass());
    }

    @Test
    void aChangedBodyFailsTheNewestMessageSignatureAndAResealMovesOldestPass() throws Exception {
        String once = lists.relay(Hop.MESSAGE);
        String changed = once.replace("We lost the game.", "We won the game.");
        ArcVerdict verdict = verify(changed);
        assertEquals(ArcVerdict.Result.FAIL, verdict.result());
        assertEquals("arc=fail (i=1 ARC-Message-Signature i=1: fail, body has been altered)", verdict.authResult());

        // a list that changes the body, then seals: the chain passes, but only from its own set on
        String resealed = forwarder.seal(changed, verify(once), "forward.example; arc=pass (i=1)");
        ArcVerdict after = verify(resealed);
        assertEquals(ArcVerdict.Result.PASS, after.result(), after.detail());
        assertEquals(2, after.oldestPass());
        assertEquals("arc=pass (i=2) header.oldest-pass=2", after.authResult());
    }

    @Test
    void tamperingWithAnyFieldOfASetFailsTheChain() throws Exception {
        String twice = forwarder.relay(lists.relay(Hop.MESSAGE));
        List<String> tampered = List.of(
                // a signed field of the message
                twice.replace("Subject: dinner", "Subject: lunch"),
                // the results of the first hop, covered by the seals only
                twice.replace("i=1; lists.example;\r\n\tspf=pass", "i=1; lists.example;\r\n\tspf=fail"),
                // the older message signature's timestamp, covered by both seals
                replaceTag(twice, "ARC-Message-Signature: i=1;", "t"),
                // the seals' own tags
                replaceTag(twice, "ARC-Seal: i=1;", "t"),
                replaceTag(twice, "ARC-Seal: i=2;", "t"));
        for (String message : tampered) {
            assertFalse(message.equals(twice));
            ArcVerdict verdict = verify(message);
            assertEquals(ArcVerdict.Result.FAIL, verdict.result(), message);
        }
        // the newest seal covers every set, so it is the first to notice
        assertEquals("ARC-Seal i=2: signature does not match", verify(tampered.get(1)).detail());
        assertEquals("ARC-Seal i=2: signature does not match", verify(tampered.get(4)).detail());
        String once = lists.relay(Hop.MESSAGE);
        assertEquals("ARC-Seal i=1: signature does not match", verify(once.replace("spf=pass", "spf=fail")).detail());
    }

    /** The field starting with {@code start}, with the number in its tag {@code tag} one higher. */
    private static String replaceTag(String message, String start, String tag) {
        Matcher matcher = Pattern.compile(Pattern.quote(start) + "[^\r]*?\\b" + tag + "=([0-9]+)").matcher(message);
        assertTrue(matcher.find(), start);
        long value = Long.parseLong(matcher.group(1));
        return message.substring(0, matcher.start(1)) + (value + 1) + message.substring(matcher.end(1));
    }

    @Test
    void aKeyDnsCannotAnswerForOrThatIsMissingFailsTheChain() throws Exception {
        String once = lists.relay(Hop.MESSAGE);
        TestResolver down = new TestResolver().failing("arc._domainkey.lists.example");
        assertEquals("ARC-Message-Signature i=1: temperror, public key: DNS query failed for arc._domainkey.lists.example",
                Hop.verify(down, once).detail());
        assertEquals("ARC-Message-Signature i=1: permerror, public key: not available", Hop.verify(new TestResolver(), once).detail());
    }

    @Test
    void aFailedChainIsSealedOnceWithCvFailOverItsOwnSetThenNoMore() throws Exception {
        String broken = lists.relay(Hop.MESSAGE).replace("Subject: dinner", "Subject: lunch");
        String failed = forwarder.relay(broken);
        assertTrue(failed.startsWith("ARC-Seal: i=2;") && failed.contains("; cv=fail; d=forward.example;"), failed);
        ArcChain chain = chain(failed);
        assertTrue(chain.markedFailed());
        assertEquals(Optional.of("ARC-Seal i=2 has cv=fail"), chain.brokenReason());
        assertEquals(ArcVerdict.Result.FAIL, verify(failed).result());
        assertEquals(failed, relay.relay(failed));
    }

    @Test
    void theStructureRulesOfRfc8617() throws Exception {
        String twice = forwarder.relay(lists.relay(Hop.MESSAGE));
        assertEquals(Optional.empty(), chain(twice).brokenReason());
        assertEquals(Optional.of("ARC set i=1 is incomplete"), chain(withoutField(twice, "ARC-Message-Signature: i=1")).brokenReason());
        assertEquals(Optional.of("ARC set i=2 is incomplete"), chain(withoutField(twice, "ARC-Authentication-Results: i=2")).brokenReason());
        String duplicate = "ARC-Authentication-Results: i=2; other.example; arc=pass\r\n" + twice;
        assertEquals(Optional.of("two ARC-Authentication-Results fields with i=2"), chain(duplicate).brokenReason());
        assertEquals(Optional.of("ARC-Seal i=1 has cv=pass"), chain(twice.replace("; cv=none;", "; cv=pass;")).brokenReason());
        assertEquals(Optional.of("ARC-Seal i=2 has cv=none"), chain(twice.replace("; cv=pass;", "; cv=none;")).brokenReason());
        assertEquals(Optional.of("ARC-Seal: i=0 is below 1"), chain(twice.replace("ARC-Seal: i=2;", "ARC-Seal: i=0;")).brokenReason());
        assertEquals(ArcVerdict.Result.FAIL, verify(withoutField(twice, "ARC-Seal: i=1")).result());
        assertEquals("ARC set i=1 is incomplete", verify(withoutField(twice, "ARC-Seal: i=1")).detail());
    }

    @Test
    void fiftySetsAreTheMostAChainHasAndNoHopAddsAFiftyFirst() throws Exception {
        StringBuilder fiftyOne = new StringBuilder();
        for (int instance = 51; instance >= 1; instance--) {
            fiftyOne.append("ARC-Seal: i=").append(instance).append("; a=rsa-sha256; cv=").append(instance == 1 ? "none" : "pass")
                    .append("; d=x.example; s=arc; b=AAAA\r\n")
                    .append("ARC-Message-Signature: i=").append(instance)
                    .append("; a=rsa-sha256; d=x.example; s=arc; h=from; bh=AAAA; b=AAAA\r\n")
                    .append("ARC-Authentication-Results: i=").append(instance).append("; x.example; arc=pass\r\n");
        }
        String message = fiftyOne + Hop.MESSAGE;
        assertEquals(Optional.of("more than 50 ARC sets"), chain(message).brokenReason());
        assertEquals(message, lists.relay(message));
        String fifty = message.substring(message.indexOf("ARC-Seal: i=50;"));
        assertEquals(Optional.empty(), chain(fifty).brokenReason());
        assertEquals(fifty, lists.seal(fifty, verify(fifty), "lists.example; arc=fail"));
    }

    private static String withoutField(String message, String start) {
        List<HeaderField> fields = new TestTransaction().message(message).header().orElseThrow().fields();
        StringBuilder result = new StringBuilder();
        for (HeaderField field : fields) {
            if (!(field.name() + ":" + field.value()).startsWith(start)) {
                result.append(field.name()).append(':').append(field.value()).append("\r\n");
            }
        }
        return result + message.substring(message.indexOf("\r\n\r\n") + 2);
    }
}
