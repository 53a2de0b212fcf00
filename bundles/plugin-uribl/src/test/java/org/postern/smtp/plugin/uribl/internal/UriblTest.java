package org.postern.smtp.plugin.uribl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.testkit.HookResults;
import org.postern.smtp.testkit.TestConfig;
import org.postern.smtp.testkit.TestContext;
import org.postern.smtp.testkit.TestResolver;

class UriblTest {
    private static final String HEAD = "From: sender@example.org\r\nTo: rcpt@example.org\r\nSubject: offer\r\n";

    private final TestResolver dns = new TestResolver()
            .withA("spam.example.net.uribl.test", "127.0.0.2").withTxt("spam.example.net.uribl.test", "listed for testing")
            .withA("refused.example.net.uribl.test", "127.255.255.254");
    private final TestContext ctx = new TestContext().withConfig("uribl_zones", "uribl.test");

    private static Uribl.Config config(Map<String, ?> values) {
        return TestConfig.of(Uribl.Config.class, values);
    }

    private HookResult dataPost(Uribl plugin, String message) {
        ctx.transaction().message(message);
        return HookResults.settled(plugin.onDataPost(ctx));
    }

    private HookResult dataPost(String message) {
        return dataPost(new Uribl(dns, config(Map.of())), message);
    }

    private List<String> asked(String type) {
        return dns.asked().stream().filter(query -> query.startsWith(type + " ")).map(query -> query.substring(type.length() + 1)).toList();
    }

    private List<String> matchHeaders() {
        return ctx.transaction().header().orElseThrow().get(Uribl.HEADER);
    }

    @Test
    void aListedUriInAPlainMessageAddsTheHeaderByDefault() {
        HookResult answer = dataPost(HEAD + "\r\nHello,\r\nsee http://spam.example.net/offer?id=1 now.\r\n");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("spam.example.net in uribl.test: listed for testing"), matchHeaders());
        assertEquals(List.of("example.net.uribl.test", "spam.example.net.uribl.test"), asked("A"));
        assertEquals(List.of("spam.example.net.uribl.test"), asked("TXT"), "TXT only for the listing");
        assertTrue(ctx.logged().contains("WARN spam.example.net in uribl.test: listed for testing"), ctx.logged().toString());
        assertTrue(ctx.logged().stream().anyMatch(line -> line.matches("INFO 2 lookups finished in \\d+\\.\\d\\d sec \\(1 match\\)")),
                ctx.logged().toString());
    }

    @Test
    void theZoneLinesActionRefusesTheMessageWithTheListingsDescription() {
        ctx.withConfig("uribl_zones", "uribl.test -1 deny");
        HookResult answer = dataPost(HEAD + "\r\nspam.example.net\r\n");
        assertEquals(ReturnCode.DENY, answer.code());
        assertEquals(List.of("spam.example.net in uribl.test: listed for testing"), answer.message());

        ctx.withConfig("uribl_zones", "uribl.test 0 denysoft");
        assertEquals(ReturnCode.DENYSOFT, dataPost(HEAD + "\r\nspam.example.net\r\n").code());
        assertEquals(List.of(), matchHeaders());
    }

    @Test
    void theActionOptionAppliesToZonesWithoutOneAndLogOnlyLogs() {
        HookResult denied = dataPost(new Uribl(dns, config(Map.of("action", "deny"))), HEAD + "\r\nwww.spam.example.net\r\n");
        assertEquals(ReturnCode.DENY, denied.code());

        HookResult logged = dataPost(new Uribl(dns, config(Map.of("action", "log"))), HEAD + "\r\nwww.spam.example.net\r\n");
        assertEquals(ReturnCode.DECLINED, logged.code());
        assertEquals(List.of(), matchHeaders());
        assertTrue(ctx.logged().contains("WARN spam.example.net in uribl.test: listed for testing"), ctx.logged().toString());
    }

    @Test
    void anErrorCodeAnswerIsNoListingAndIsLogged() {
        HookResult answer = dataPost(new Uribl(dns, config(Map.of("action", "deny"))), HEAD + "\r\nhttp://refused.example.net/\r\n");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(ctx.logged().contains("WARN refused.example.net.uribl.test answered [127.255.255.254], which is no listing:"
                + " the list refused the query, or the resolver rewrites missing names"), ctx.logged().toString());
    }

    @Test
    void aZoneMaskSelectsTheListsOfACompositeZone() {
        dns.withA("four.example.com.multi.test", "127.0.0.4").withA("eight.example.com.multi.test", "127.0.0.8");
        ctx.withConfig("uribl_zones", "multi.test 2,8 deny");
        assertEquals(ReturnCode.DECLINED, dataPost(HEAD + "\r\nfour.example.com\r\n").code());
        HookResult answer = dataPost(HEAD + "\r\neight.example.com\r\n");
        assertEquals(List.of("eight.example.com in multi.test: 127.0.0.8"), answer.message(), "no TXT record: the address");
    }

    @Test
    void aSoftLineBreakOfQuotedPrintableInsideAUrlIsJoined() {
        HookResult answer = dataPost(HEAD + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "Click <http://spam.exam=\r\nple.net/x=3D1> =E2=80=94 now\r\n");
        assertEquals(List.of("spam.example.net in uribl.test: listed for testing"), matchHeaders(), ctx.logged().toString());
    }

    @Test
    void aBase64HtmlPartOfAMultipartAlternativeIsDecoded() {
        String html = "<html><body><a href=\"http://spam.example.net/\">click</a></body></html>";
        String picture = Base64.getMimeEncoder().encodeToString("GIF89a http://image.example.org/".getBytes(StandardCharsets.US_ASCII));
        HookResult answer = dataPost(HEAD + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
                + "preamble http://preamble.example.org/\r\n"
                + "--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
                + "--inner\r\nContent-Type: text/plain\r\n\r\nSee the HTML part.\r\n"
                + "--inner\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(html.getBytes(StandardCharsets.US_ASCII)) + "\r\n"
                + "--inner--\r\n"
                + "--outer\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\n" + picture + "\r\n"
                + "--outer--\r\n");
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertEquals(List.of("spam.example.net in uribl.test: listed for testing"), matchHeaders());
        assertEquals(List.of("example.net.uribl.test", "spam.example.net.uribl.test"), asked("A"),
                "neither the preamble nor the image is scanned");
    }

    @Test
    void namesBeyondMaxLookupsAreNotAskedAndScanningStops() {
        String body = IntStream.rangeClosed(1, 60).mapToObj(i -> "http://host" + i + ".com/\r\n").collect(Collectors.joining())
                + "http://spam.example.net/\r\n";
        HookResult answer = dataPost(new Uribl(dns, config(Map.of("max_lookups", 10, "action", "deny"))), HEAD + "\r\n" + body);
        assertEquals(ReturnCode.DECLINED, answer.code(), "the listed URI comes after the cap");
        assertEquals(10, asked("A").size());
        assertEquals("host10.com.uribl.test", asked("A").get(9));
        assertTrue(ctx.logged().contains("INFO max_lookups reached: 10 names asked, the rest of the message was not scanned"),
                ctx.logged().toString());
    }

    @Test
    void theDefaultCapIsFiftyNamesEachAskedInEveryZone() {
        ctx.withConfig("uribl_zones", "uribl.test", "other.test");
        String body = IntStream.rangeClosed(1, 60).mapToObj(i -> "host" + i + ".com ").collect(Collectors.joining());
        dataPost(HEAD + "\r\n" + body + "\r\n");
        assertEquals(100, asked("A").size());
    }

    @Test
    void allListsAreAskedBeforeAnyAnswers() {
        dns.holdingA();
        ctx.withConfig("uribl_zones", "uribl.test", "other.test");
        ctx.transaction().message(HEAD + "\r\nhttp://www.spam.example.net/\r\n");
        HookResult pending = new Uribl(dns, config(Map.of())).onDataPost(ctx);
        assertTrue(pending.pending().isPresent());
        assertEquals(6, asked("A").size(), dns.asked().toString());
        asked("A").forEach(name -> dns.answerA(name, name.equals("spam.example.net.other.test") ? new String[] {"127.0.0.3"} : new String[0]));
        assertEquals(ReturnCode.DECLINED, HookResults.settled(pending).code());
        assertEquals(List.of("spam.example.net in other.test: 127.0.0.3"), matchHeaders());
    }

    @Test
    void listsThatDoNotAnswerInTimeCountAsNotListed() {
        dns.holdingA();
        ctx.transaction().message(HEAD + "\r\nhttp://spam.example.net/\r\n");
        long start = System.nanoTime();
        HookResult answer = HookResults.settled(new Uribl(dns, config(Map.of("timeout", 1))).onDataPost(ctx));
        assertEquals(ReturnCode.DECLINED, answer.code());
        assertTrue(System.nanoTime() - start >= 900_000_000L);
        assertTrue(ctx.logged().contains("WARN 2 lookups unanswered after 1 s (timeout), counted as not listed"), ctx.logged().toString());
    }

    @Test
    void aFailedQueryIsLoggedAndTheOthersStillCount() {
        dns.failing("example.net.uribl.test");
        HookResult answer = dataPost(new Uribl(dns, config(Map.of("action", "deny"))), HEAD + "\r\nhttp://spam.example.net/\r\n");
        assertEquals(ReturnCode.DENY, answer.code());
        assertTrue(ctx.logged().contains("ERROR query failed, counted as not listed: example.net.uribl.test: test failure"),
                ctx.logged().toString());
    }

    @Test
    void headersAreScannedOnlyWithScanHeaders() {
        String message = "From: sender@example.org\r\nX-Link: http://spam.example.net/\r\n\r\nno links here\r\n";
        assertEquals(ReturnCode.DECLINED, dataPost(new Uribl(dns, config(Map.of("action", "deny"))), message).code());
        assertTrue(ctx.logged().contains("INFO pass, No URIs found in mail"), ctx.logged().toString());
        assertEquals(ReturnCode.DENY, dataPost(new Uribl(dns, config(Map.of("action", "deny", "scan-headers", "1"))), message).code());
        assertEquals(ReturnCode.DENY, dataPost(new Uribl(dns, config(Map.of("action", "deny", "check-headers", "1"))), message).code());
    }

    @Test
    void anImmuneClientIsNotLookedUp() {
        ctx.session().notes().put(SharedNotes.RELAY_CLIENT, true);
        assertEquals(ReturnCode.DECLINED, dataPost(HEAD + "\r\nhttp://spam.example.net/\r\n").code());
        assertEquals(List.of(), dns.asked());
    }

    @Test
    void unusableConfigurationFallsBackToTheDefaults() {
        ctx.withConfig("uribl_zones", "uribl.test 2x bogus", "8 deny", "# a comment");
        Uribl plugin = new Uribl(dns, config(Map.of("action", "reject", "timeout", 0, "max_lookups", -1)));
        HookResult answer = dataPost(plugin, HEAD + "\r\nhttp://spam.example.net/\r\n");
        assertEquals(ReturnCode.DECLINED, answer.code(), "add-header, every list");
        assertEquals(List.of("spam.example.net in uribl.test: listed for testing"), matchHeaders());
        assertFalse(dns.asked().stream().anyMatch(query -> query.endsWith(".8")), "'8 deny' is no zone");
    }

    @Test
    void withoutZonesNothingIsAsked() {
        ctx.withConfig("uribl_zones");
        assertEquals(ReturnCode.DECLINED, dataPost(HEAD + "\r\nhttp://spam.example.net/\r\n").code());
        assertEquals(List.of(), dns.asked());
        assertTrue(ctx.logged().contains("INFO skip, no zones in uribl_zones"));
    }
}
