#!/usr/bin/perl -p
# Turns a page from swift-argument-parser's manual generator into one Debian's tools read well:
# - {U+XXXX} (how the help carries non-ASCII text through the generator, which drops it; see
#   HelpText.codePointsForManual) becomes roff's \[uXXXX];
# - page names tenken.check become tenken-check, in .Dt and in the .Xr references;
# - references to argument-parser's own `help` pages go (they are not installed);
# - the NAME section names the page tenken-check (apropos and lexgrog read names without
#   spaces), while the synopsis and the text still say `tenken check`, as it is typed.
BEGIN { our ($section, $name) = ('', undef) }
our ($section, $name);
s/\{U\+([0-9A-F]{4,6})\}/\\[u$1]/g;
s/^(\.Dt|\.Xr) (\S+)/"$1 " . ($2 =~ tr{.}{-}r)/e;
$_ = '' if /^\.Xr \S+-help /;
$section = $1 if /^\.Sh (\S+)/;
if ($section eq 'NAME' && /^\.Nm "(.+)"$/) {
    $name = $1;
    $_ = '.Nm ' . ($name =~ tr{ }{-}r) . "\n";
} elsif (defined $name && /^\.Nm$/) {
    $_ = ".Nm \"$name\"\n";
}
