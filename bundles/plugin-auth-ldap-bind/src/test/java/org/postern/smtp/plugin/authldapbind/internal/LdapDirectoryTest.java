package org.postern.smtp.plugin.authldapbind.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.testkit.TestConfig;

/** The search filter's escaping and the configuration keys. */
class LdapDirectoryTest {
    @TempDir
    Path folder;

    private static AuthLdapBind.Config config(Map<String, Object> keys) {
        Map<String, Object> all = new HashMap<>(Map.of("ldap_base", "dc=example,dc=org"));
        all.putAll(keys);
        return TestConfig.of(AuthLdapBind.Config.class, all);
    }

    private static String rejected(Map<String, Object> keys) {
        return assertThrows(IllegalArgumentException.class, () -> LdapDirectory.of(config(keys))).getMessage();
    }

    @Test
    void aUserNameIsOnlyEverAValueInTheFilter() {
        assertEquals("(uid=alice)", LdapDirectory.equalityFilter("uid", "alice"));
        assertEquals("(uid=\\2a)", LdapDirectory.equalityFilter("uid", "*"));
        // without escaping: (uid=alice)(uid=*), which matches alice and everyone else
        assertEquals("(uid=alice\\29\\28uid=\\2a)", LdapDirectory.equalityFilter("uid", "alice)(uid=*"));
        assertEquals("(uid=a\\5c2a\\00b)", LdapDirectory.equalityFilter("uid", "a\\2a\0b"));
        assertEquals("(cn=J\u00fcrgen)", LdapDirectory.equalityFilter("cn", "J\u00fcrgen"), "UTF-8 goes as it is (RFC 4515 3)");
    }

    @Test
    void qpsmtpdsDefaults() {
        LdapDirectory directory = LdapDirectory.of(config(Map.of()));
        assertEquals("ldap://127.0.0.1:389", directory.urls());
        assertEquals("(uid=bob)", directory.filter("bob"));
    }

    @Test
    void severalHostsAreTriedInOrderWithTheSchemeOfLdapTls() {
        assertEquals("ldap://ldap1.example.org:389 ldap://ldap2.example.org:389",
                LdapDirectory.of(config(Map.of("ldap_host", "ldap1.example.org, ldap2.example.org"))).urls());
        assertEquals("ldaps://ldap.example.org:636 ldaps://[::1]:636",
                LdapDirectory.of(config(Map.of("ldap_host", "ldap.example.org ::1", "ldap_port", 636, "ldap_tls", "LDAPS"))).urls());
        assertEquals("ldap://127.0.0.1:389", LdapDirectory.of(config(Map.of("ldap_tls", "starttls"))).urls());
        assertEquals("(mail;x-test=bob@example.org)",
                LdapDirectory.of(config(Map.of("ldap_auth_filter_attr", "mail;x-test"))).filter("bob@example.org"));
    }

    @Test
    void unusableValuesAreRefusedWithTheirKey() throws IOException {
        assertTrue(rejected(Map.of("ldap_base", " ")).startsWith("key 'ldap_base' is required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LdapDirectory.of(TestConfig.of(AuthLdapBind.Config.class, Map.of())))
                .getMessage().startsWith("key 'ldap_base' is required"));
        assertTrue(rejected(Map.of("ldap_base", "example.org")).startsWith("key 'ldap_base': example.org is not a DN"));
        assertTrue(rejected(Map.of("ldap_auth_filter_attr", "uid)(objectClass=*")).startsWith("key 'ldap_auth_filter_attr'"));
        assertTrue(rejected(Map.of("ldap_host", "ldap.example.org/x")).startsWith("key 'ldap_host'"));
        assertTrue(rejected(Map.of("ldap_host", " , ")).startsWith("key 'ldap_host'"));
        assertTrue(rejected(Map.of("ldap_port", 0)).startsWith("key 'ldap_port'"));
        assertTrue(rejected(Map.of("ldap_timeout", 0)).startsWith("key 'ldap_timeout'"));
        assertTrue(rejected(Map.of("ldap_tls", "ssl")).startsWith("key 'ldap_tls': ssl is none of"));
        assertTrue(rejected(Map.of("ldap_bind_dn", "cn=postern,dc=example,dc=org")).startsWith("key 'ldap_bind_password' is required"));
        assertTrue(rejected(Map.of("ldap_tls_ca_file", folder.resolve("missing.pem").toString())).startsWith("key 'ldap_tls_ca_file'"));
        Path notPem = Files.writeString(folder.resolve("empty.pem"), "");
        assertTrue(rejected(Map.of("ldap_tls_ca_file", notPem.toString())).startsWith("key 'ldap_tls_ca_file'"));
    }

    @Test
    void theDomainIsLeftOutOfTheSearchAsInQpsmtpdUnlessTurnedOff() {
        LdapDirectory directory = LdapDirectory.of(config(Map.of()));
        assertEquals("alice", new AuthLdapBind(directory, true).searchName("Alice@Example.org"));
        assertEquals("alice@example.org", new AuthLdapBind(directory, false).searchName("Alice@Example.org"));
        assertEquals("", new AuthLdapBind(directory, true).searchName("@example.org"));
    }
}
