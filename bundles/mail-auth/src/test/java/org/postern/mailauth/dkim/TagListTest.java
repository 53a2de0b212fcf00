package org.postern.mailauth.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TagListTest {
    @Test
    void valuesAreTrimmedAndFoldingIsAllowed() throws Exception {
        TagList tags = TagList.parse(" v=1;\r\n\ta = rsa-sha256 ;b=abc\r\n def ;");
        assertEquals(Map.of("v", "1", "a", "rsa-sha256", "b", "abc\r\n def"), tags.tags());
        assertEquals(List.of("v", "a", "b"), List.copyOf(tags.tags().keySet()));
        assertEquals("abcdef", tags.compact("b").orElseThrow());
    }

    @Test
    void anEmptyValueIsAValue() throws Exception {
        assertEquals("", TagList.parse("p=").get("p").orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"v=1; v=2", "v=1;;a=b", "novalue", "1a=b", "a b=c", "a=b\u00e9", "=x", "a=b\r\nc"})
    void malformedListsAreRefused(String text) {
        DkimException e = assertThrows(DkimException.class, () -> TagList.parse(text));
        assertEquals(Verdict.Result.PERMERROR, e.result());
    }

    @Test
    void aMissingRequiredTagIsNamed() {
        assertEquals("missing d tag", assertThrows(DkimException.class, () -> TagList.parse("v=1").require("d")).getMessage());
    }
}
