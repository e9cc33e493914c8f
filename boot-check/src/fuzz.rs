//! Every parser on random bytes (all 256 values) and on every prefix of
//! a real file: records or problems, never a panic; and the menu of what
//! was read answers any default spec.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::Config;
use crate::{bls, config_text, extlinux, grub2, grub_legacy, grubenv, system};

fn rand_bytes(seed: &mut u64, n: usize, alphabet: Option<&[u8]>) -> Vec<u8> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (*seed >> 33) as usize;
            match alphabet {
                Some(a) => a[r % a.len()],
                None => r as u8,
            }
        })
        .collect()
}

fn exercise(c: &Config, seed: &mut u64) {
    let specs = [
        "0",
        "1",
        "1>0",
        "2>1>0",
        "x>y",
        ">",
        ">>",
        "",
        "*",
        "?",
        "99999999999999999999",
    ];
    for sp in specs {
        let _ = c.resolve(Some(sp));
        let _ = c.effective(Some(sp));
        let _ = c.submenu_named(sp);
        let _ = c.nested_match(sp);
    }
    let _ = c.resolve(c.default.spec.as_deref());
    let _ = c.effective(c.default.spec.as_deref());
    for i in 0..c.entries.len() {
        if let Some(sp) = c.spec_of(i) {
            assert!(c.effective(Some(&sp)).is_some(), "{sp}");
        }
    }
    let junk = String::from_utf8_lossy(&rand_bytes(seed, 12, Some(b"0>1ab*?"))).into_owned();
    let _ = c.effective(Some(&junk));
}

fn all_parsers(src: &[u8], seed: &mut u64) {
    let (text, _) = config_text::decode(src);
    let env: BTreeMap<String, String> = [("saved_entry", "1>1"), ("kernelopts", "root=x")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let (bls_entry, _) = bls::parse_entry(&text, Path::new("/e.conf"), "e.conf");
    let c = grub2::parse(
        &text,
        Path::new("/boot/grub/grub.cfg"),
        grub2::Inputs {
            env: &env,
            env_file: PathBuf::from("/boot/grub/grubenv"),
            bls: vec![bls_entry.entry],
            grub_default: grub2::grub_default(&text),
            // Every sourced file is this one again, under its own name.
            include: &|p| Some((PathBuf::from(p), text.clone())),
        },
    );
    exercise(&c, seed);
    exercise(
        &extlinux::parse(&text, Path::new("/boot/extlinux.conf")),
        seed,
    );
    exercise(
        &grub_legacy::parse(&text, Path::new("/boot/grub/grub.conf"), Some(text.clone())),
        seed,
    );
    let _ = bls::parse_loader_conf(&text);
    let _ = grubenv::parse(src);
    let _ = system::parse_fstab(&text);
    let _ = crate::discover::decode_efi_string(src);
    let _ = crate::kernels::version_of_name(&text);
    let _ = crate::kernels::initrd_version(&text);
    let _ = crate::kernels::bzimage_release(src);
    let _ = crate::uki::sections(src);
    let _ = bls::strverscmp(&text, "6.1-1");
    let _ = crate::kernels::vercmp(&text, "6.1-1");
}

const SAMPLES: [&str; 5] = [
    "set default=\"${saved_entry}\"\nif [ -n \"${a}\" -a \"$b\" = 0 ]; then\n set default=1\nelif [ x ]; then\nelse\nfi\nsubmenu 'S' $menuentry_id_option 's' {\n menuentry 'E' --id e {\n  search --no-floppy --fs-uuid --set=root U\n  linux /vmlinuz-1 root=/dev/x $kernelopts\n  initrd /i /j\n }\n}\nblscfg\n",
    "title T\nversion 1.2\nlinux /vmlinuz-1.2\ninitrd /i $tuned_initrd\noptions root=/dev/sda1 $x\nsort-key a\n",
    "DEFAULT lts\nLABEL lts\n  MENU LABEL Linux lts\n  MENU DEFAULT\n  LINUX vmlinuz-lts\n  INITRD a,initramfs-lts\n  APPEND initrd=x root=UUID=u\n",
    "default=0\nfallback=1\nhiddenmenu\nsplashimage=(hd0,0)/grub/splash.xpm.gz\ntitle C (2.6)\n\troot (hd0,0)\n\tkernel /vmlinuz-2.6 ro root=/dev/x\n\tinitrd /initramfs-2.6.img\n",
    "UUID=a / ext4 defaults 0 1\nLABEL=boot /boot/ ext4 defaults 0 2\n/dev/sdb1 /boot/efi vfat umask=0077 0 1\nGRUB_DEFAULT=\"1>2\" # x\n",
];

#[test]
fn truncated_files_never_panic() {
    let mut seed = 1;
    for s in SAMPLES {
        for cut in 0..=s.len() {
            all_parsers(&s.as_bytes()[..cut], &mut seed);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 42;
    for n in 0..400 {
        let len = (n * 7) % 300;
        let b = rand_bytes(&mut seed, len, None);
        all_parsers(&b, &mut seed);
        let b = rand_bytes(&mut seed, len, Some(b"{}[]$\"'\\;\n #=>-0129abxyz\tmenuentry submenu if fi linux initrd LABEL title default"));
        all_parsers(&b, &mut seed);
        // Damage a real file in a few places.
        let mut b = SAMPLES[n % SAMPLES.len()].as_bytes().to_vec();
        for _ in 0..(n % 5) {
            let r = rand_bytes(&mut seed, 2, None);
            if !b.is_empty() {
                let i = r[0] as usize % b.len();
                b[i] = r[1];
            }
        }
        all_parsers(&b, &mut seed);
    }
}
