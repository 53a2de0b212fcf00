package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SaslExchangeTest {
    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static SaslExchange.Credentials done(SaslExchange.Step step) {
        return assertInstanceOf(SaslExchange.Done.class, step).credentials();
    }

    @Test
    void plainTakesTheInitialResponseOrAsksForIt() {
        SaslExchange.Credentials direct = done(SaslExchange.forMechanism("plain", "mx").begin(b64("\0bob\0pw")));
        assertEquals("bob", direct.user());
        assertEquals("pw", direct.clearPassword());
        SaslExchange asked = SaslExchange.forMechanism("plain", "mx");
        assertEquals("", assertInstanceOf(SaslExchange.Challenge.class, asked.begin(null)).text());
        assertEquals("bob", done(asked.respond(b64("bob\0bob\0pw"))).user());
    }

    @Test
    void plainRefusesAnotherAuthorizationIdentityAndEmptyParts() {
        SaslExchange.Step other = SaslExchange.forMechanism("plain", "mx").begin(b64("admin\0bob\0pw"));
        assertEquals(535, assertInstanceOf(SaslExchange.Failed.class, other).reply().code());
        SaslExchange.Step empty = SaslExchange.forMechanism("plain", "mx").begin(b64("\0bob\0"));
        assertEquals(535, assertInstanceOf(SaslExchange.Failed.class, empty).reply().code());
    }

    @Test
    void loginAsksForUserThenPassword() {
        SaslExchange login = SaslExchange.forMechanism("login", "mx");
        assertEquals(b64("Username:"), assertInstanceOf(SaslExchange.Challenge.class, login.begin(null)).text());
        assertEquals(b64("Password:"), assertInstanceOf(SaslExchange.Challenge.class, login.respond(b64("bob"))).text());
        SaslExchange.Credentials credentials = done(login.respond(b64("pw")));
        assertEquals("bob", credentials.user());
        assertEquals("pw", credentials.clearPassword());
    }

    @Test
    void cramMd5SendsATicketAndReturnsTheDigest() {
        SaslExchange cram = SaslExchange.forMechanism("cram-md5", "mx.example");
        String ticket = new String(Base64.getDecoder().decode(
                assertInstanceOf(SaslExchange.Challenge.class, cram.begin(null)).text()), StandardCharsets.UTF_8);
        assertTrue(ticket.matches("<[0-9a-f]+\\.[0-9a-f]+@mx\\.example>"), ticket);
        SaslExchange.Credentials credentials = done(cram.respond(b64("bob B913A602C7EDA7A495B4E6E7334D3890")));
        assertEquals("bob", credentials.user());
        assertEquals("b913a602c7eda7a495b4e6e7334d3890", credentials.hashedPassword());
        assertEquals(ticket, credentials.ticket());
    }

    @Test
    void cancelAndGarbageEndTheExchange() {
        SaslExchange login = SaslExchange.forMechanism("login", "mx");
        login.begin(null);
        assertEquals(501, assertInstanceOf(SaslExchange.Failed.class, login.respond("*")).reply().code());
        SaslExchange again = SaslExchange.forMechanism("login", "mx");
        again.begin(null);
        assertEquals(501, assertInstanceOf(SaslExchange.Failed.class, again.respond("not base64!")).reply().code());
        SaslExchange cram = SaslExchange.forMechanism("cram-md5", "mx");
        cram.begin(null);
        assertEquals(504, assertInstanceOf(SaslExchange.Failed.class, cram.respond(b64("nospace"))).reply().code());
    }
}
