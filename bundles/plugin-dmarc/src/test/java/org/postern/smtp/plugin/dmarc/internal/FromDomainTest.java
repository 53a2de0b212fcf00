package org.postern.smtp.plugin.dmarc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FromDomainTest {
    private static Optional<String> of(String... fields) {
        return FromDomain.of(List.of(fields));
    }

    @Test
    void theDomainOfTheAddressWhateverTheDisplayNameSays() {
        assertEquals(Optional.of("example.com"), of("a@Example.COM"));
        assertEquals(Optional.of("example.com"), of("\"Bank <support@bank.example>, Inc\" <a@example.com>"));
        assertEquals(Optional.of("example.com"), of("Someone (at work@elsewhere.example) <a@example.com.>"));
        assertEquals(Optional.of("example.com"), of("\"odd,local\"@example.com"));
    }

    @Test
    void severalAddressesMustShareOneDomain() {
        assertEquals(Optional.of("example.com"), of("a@example.com, B <b@example.com>"));
        assertEquals(Optional.empty(), of("a@example.com, b@example.org"));
        assertEquals(Optional.of("example.com"), of("team: a@example.com, b@example.com;"));
    }

    @Test
    void noOneUsableDomainIsNone() {
        assertEquals(Optional.empty(), of("a@example.com", "b@example.com"));
        assertEquals(Optional.empty(), of("undisclosed-recipients:;"));
        assertEquals(Optional.empty(), of("nobody"));
        assertEquals(Optional.empty(), of("a@[192.0.2.1]"));
        assertEquals(Optional.empty(), of("a@localhost"));
    }
}
