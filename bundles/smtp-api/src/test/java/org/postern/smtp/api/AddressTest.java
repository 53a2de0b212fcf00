package org.postern.smtp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "<user@example.org>|user|example.org|<user@example.org>",
        "<User.Name+tag@Sub.Example.ORG>|User.Name+tag|Sub.Example.ORG|<User.Name+tag@Sub.Example.ORG>",
        "<@relay.example,@other.example:user@example.org>|user|example.org|<user@example.org>",
        "<\"john doe\"@example.org>|john doe|example.org|<\"john doe\"@example.org>",
        "<\"\"@example.org>|''|example.org|<\"\"@example.org>",
        "<\"a..b\"@example.org>|a..b|example.org|<\"a..b\"@example.org>",
        "<\".a\"@example.org>|.a|example.org|<\".a\"@example.org>",
        "<\"tab\\\tin\"@example.org>|tab\tin|example.org|<\"tab\\\tin\"@example.org>",
        "<\"a\\\"b\"@example.org>|a\"b|example.org|<\"a\\\"b\"@example.org>",
        "<user@[192.0.2.1]>|user|[192.0.2.1]|<user@[192.0.2.1]>",
        "<user@[IPv6:2001:db8::1]>|user|[IPv6:2001:db8::1]|<user@[IPv6:2001:db8::1]>",
        "<PostMaster>|postmaster||<postmaster>",
    })
    void parsesAndFormatsLikeQpsmtpd(String path, String user, String host, String formatted) {
        Address address = Address.parse(path).orElseThrow();
        assertEquals(user, address.user());
        assertEquals(host == null ? "" : host, address.host().orElse(""));
        assertEquals(formatted, address.format());
    }

    @ParameterizedTest
    @ValueSource(strings = {"user@example.org", "<user@example.org", "<user>", "<user@-bad.example>", "<us er@example.org>",
        "<user@exa mple.org>", "<@relay:>x", "<a..b@example.org>", "<\"unterminated@example.org>"})
    void rejectsWhatIsNotAPath(String text) {
        assertTrue(Address.parse(text).isEmpty(), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"<>", "<@relay.example:>"})
    void theEmptyPathIsTheNullSender(String text) {
        Address address = Address.parse(text).orElseThrow();
        assertTrue(address.isNullSender());
        assertEquals("<>", address.format());
    }

    @ParameterizedTest
    @CsvSource({"<a@Example.ORG>,<a@example.org>"})
    void domainsCompareCaseInsensitively(String left, String right) {
        assertEquals(Address.parse(left).orElseThrow(), Address.parse(right).orElseThrow());
    }
}
