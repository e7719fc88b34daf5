#!/usr/bin/perl
# Runs the privacy panel's JavaScript unit tests (panel.test.js) with node's own test runner, so
# `prove -r koha-plugin/t` covers them; skipped when node is not installed.
use strict;
use warnings;
use FindBin qw($Bin);
use Test::More;

my $node = (grep { -x "$_/node" } split /:/, $ENV{PATH} // '')[0];
plan skip_all => 'node is not installed' unless $node;

my $output = qx{"$node/node" --test "$Bin/panel.test.js" 2>&1};
my $status = $? >> 8;
my ($passed) = $output =~ /^# pass (\d+)/m;
is $status, 0, 'node --test panel.test.js passes' or diag $output;
cmp_ok $passed // 0, '>=', 8, 'all of its tests ran';
done_testing;
