package org.postern.smtp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import java.util.Optional;

/**
 * Any text the client sends as a path (and the same in angle brackets): parsing never throws, and an address that
 * parses is written back
 * ({@link Address#format()}, which goes into headers and to next hops) as a path that parses to the same address.
 * {@code mvn test -pl bundles/smtp-api -Dtest=AddressFuzzTest} replays the inputs in src/test/resources; with
 * {@code JAZZER_FUZZ=1} Jazzer looks for new ones (see README, "Fuzzing").
 */
class AddressFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void aParsedAddressIsWrittenBackAsAPathThatParsesToItself(@NotNull String text) {
        for (String path : new String[] {text, "<" + text + ">"}) {
            Optional<Address> parsed = Address.parse(path);
            parsed.ifPresent(address -> assertEquals(Optional.of(address), Address.parse(address.format()),
                    () -> "'" + path + "' parsed as user '" + address.user() + "', written as " + address.format()));
        }
    }
}
