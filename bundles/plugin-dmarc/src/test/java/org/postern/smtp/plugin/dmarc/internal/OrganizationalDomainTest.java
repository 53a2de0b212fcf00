package org.postern.smtp.plugin.dmarc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OrganizationalDomainTest {
    @Test
    void theRegistrableDomainUnderThePublicSuffix() {
        assertEquals("example.com", OrganizationalDomain.of("mail.Example.com"));
        assertEquals("example.co.uk", OrganizationalDomain.of("a.b.example.co.uk"));
        assertEquals("example.com", OrganizationalDomain.of("example.com"));
    }

    @Test
    void privateSuffixesOfTheListCountToo() {
        // github.io is in the list's private section: each user's site is its own organization
        assertEquals("someone.github.io", OrganizationalDomain.of("www.someone.github.io"));
    }

    @Test
    void aSuffixTheListDoesNotKnowTakesTheLastTwoLabels() {
        assertEquals("example.test", OrganizationalDomain.of("mail.example.test"));
        assertEquals("co.uk", OrganizationalDomain.of("co.uk"));
    }

    @Test
    void relaxedAlignmentWantsOneOrganizationStrictTheSameName() {
        assertTrue(OrganizationalDomain.aligned("mail.example.com", "example.com", false));
        assertFalse(OrganizationalDomain.aligned("mail.example.com", "example.com", true));
        assertTrue(OrganizationalDomain.aligned("Example.com", "example.com", true));
        assertFalse(OrganizationalDomain.aligned("example.net", "example.com", false));
        assertFalse(OrganizationalDomain.aligned("", "example.com", false));
    }
}
