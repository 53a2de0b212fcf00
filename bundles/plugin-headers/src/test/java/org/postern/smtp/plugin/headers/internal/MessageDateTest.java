package org.postern.smtp.plugin.headers.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MessageDateTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Sun, 10 Mar 2024 12:00:00 +0000             | 2024-03-10T12:00:00Z",
        "10 Mar 2024 14:30:05 +0230                  | 2024-03-10T12:00:05Z",
        "Sun, 10 Mar 2024 07:00:00 -0500 (EST)       | 2024-03-10T12:00:00Z",
        "sun,10 mar 2024 04:00 PST                   | 2024-03-10T12:00:00Z",
        "Sun, 10 Mar 24 12:00:00 GMT                 | 2024-03-10T12:00:00Z",
        "Wed, 10 Mar 99 12:00:00 UT                  | 1999-03-10T12:00:00Z",
        "Wed, 10 Mar 104 12:00:00 Z                  | 2004-03-10T12:00:00Z",
        "Sun, 10 Mar 2024 (a (nested) comment) 12:00 | 2024-03-10T12:00:00Z",
    })
    void readsRfc5322DatesWithTheirObsoleteForms(String header, String instant) {
        assertEquals(Optional.of(Instant.parse(instant)), MessageDate.parse(header));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "last Tuesday", "2024-03-10T12:00:00Z", "Sun, 31 Feb 2024 12:00:00 +0000",
        "Sun, 10 Foo 2024 12:00:00 +0000", "Sun, 10 Mar 2024 25:00:00 +0000", "Sun, 10 Mar 2024 12:00:00 +9900"})
    void anythingElseIsNoDate(String header) {
        assertEquals(Optional.empty(), MessageDate.parse(header));
    }
}
