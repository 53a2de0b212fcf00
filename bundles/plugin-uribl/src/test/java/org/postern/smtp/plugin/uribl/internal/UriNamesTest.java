package org.postern.smtp.plugin.uribl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UriNamesTest {
    /** The names found in these lines, by a fresh scanner with the whitelist whitelisted.com. */
    private static List<String> names(String... lines) {
        List<String> found = new ArrayList<>();
        UriNames names = new UriNames(Set.of("whitelisted.com"), 50, found::add);
        for (String line : lines) {
            names.scan(line);
        }
        names.finish();
        return found;
    }

    @Test
    void aHostGivesItsRegisteredDomainAndEverySubHostShortestFirst() {
        assertEquals(List.of("example.com", "sub.example.com", "www.sub.example.com"),
                names("Visit www.Sub.Example.COM today, or http://sub.example.com/offer"));
    }

    @Test
    void underAStrictTwoLevelCcTldTheRegisteredDomainHasThreeLabels() {
        assertEquals(List.of("example.co.uk", "shop.example.co.uk"), names("<a href=\"https://shop.example.co.uk/x\">"));
        assertEquals(List.of(), names("bare two labels: example.uk"), "fewer labels than the registered domain has");
    }

    @ParameterizedTest
    @CsvSource({
        "http://192.0.2.1/index.html, 1.2.0.192",
        "http://user@3221225985/, 1.2.0.192",
        "http://0xc0.0250.2.1:8080/, 1.2.168.192",
    })
    void anAddressHostIsLookedUpReversedWhateverItsNotation(String url, String name) {
        assertEquals(List.of(name), names("click " + url + " now"));
    }

    @Test
    void escapesEntitiesAndSemicolonsAreUndoneBeforeScanning() {
        assertEquals(List.of("example.com", "www.example.com"), names("http://www.%65xample&#46;c;om/"));
    }

    @Test
    void aLineEndingInAnEqualsSignContinuesOnTheNext() {
        assertEquals(List.of("example.net", "spam.example.net"), names("see http://spam.exam=", "ple.net/ now"));
    }

    @Test
    void aHostMustEndInAKnownTopLevelDomainAtALabelBoundary() {
        assertEquals(List.of(), names("example.community file.txt x.com a_b.c_d version 1.2.3"));
    }

    @Test
    void aWhitelistedRegisteredDomainIsNotLookedUp() {
        assertEquals(List.of(), names("http://www.whitelisted.com/ and mail.whitelisted.com"));
    }

    @Test
    void afterMaxNamesScanningStops() {
        List<String> found = new ArrayList<>();
        UriNames names = new UriNames(Set.of(), 3, found::add);
        assertTrue(names.scan("www.one.com two.com"));
        assertFalse(names.full());
        assertFalse(names.scan("three.com four.com"), "the fourth name is one too many");
        assertTrue(names.full());
        assertEquals(List.of("one.com", "www.one.com", "two.com"), found);
    }

    @Test
    void aLongRunOfHostCharactersIsScannedInLinearTime() {
        String junk = "a".repeat(200_000) + ".b" + "-".repeat(200_000);
        long start = System.nanoTime();
        assertEquals(List.of(), names(junk, "aaa://" + "1".repeat(5000) + "@".repeat(5000)));
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "took " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }
}
